# State (state.json, made by applying applied.tf to moto): a VPC, the
# catalog's and Dagster's internal load balancers with deletion protection,
# their security groups admitting 10.0.0.0/8, and a security group with an
# inline ingress from 172.16.0.0/12. Each case for the guard:
#   catalog_http["0.0.0.0/0"]       a new ingress from anywhere: refused
#   catalog_http["192.168.0.0/16"]  a new ingress from a private range: passes
#   catalog_https                   10.0.0.0/8 -> 0.0.0.0/1 in place: refused
#   dagster_http                    ::/0 added (the rule is replaced): refused
#   legacy                          an inline ingress from anywhere: refused
#   this["catalog"]                 internal -> internet-facing (replaced): refused
#   this["dagster"]                 deletion protection off: refused
#   catalog_from_dagster            a new ingress from a security group: passes
#   catalog_egress                  a new egress to anywhere: passes
resource "aws_vpc" "main" {
  cidr_block = "10.42.0.0/16"
}

resource "aws_subnet" "private" {
  for_each          = { a = "10.42.1.0/24", b = "10.42.2.0/24" }
  vpc_id            = aws_vpc.main.id
  cidr_block        = each.value
  availability_zone = "us-east-1${each.key}"
}

resource "aws_security_group" "alb" {
  for_each = toset(["catalog", "dagster"])
  name     = "zzfixture-${each.key}-alb"
  vpc_id   = aws_vpc.main.id
}

resource "aws_vpc_security_group_ingress_rule" "catalog_http" {
  for_each          = toset(["10.0.0.0/8", "192.168.0.0/16", "0.0.0.0/0"])
  security_group_id = aws_security_group.alb["catalog"].id
  cidr_ipv4         = each.value
  from_port         = 80
  to_port           = 80
  ip_protocol       = "tcp"
}

resource "aws_vpc_security_group_ingress_rule" "catalog_https" {
  security_group_id = aws_security_group.alb["catalog"].id
  cidr_ipv4         = "0.0.0.0/1"
  from_port         = 443
  to_port           = 443
  ip_protocol       = "tcp"
}

resource "aws_vpc_security_group_ingress_rule" "catalog_from_dagster" {
  security_group_id            = aws_security_group.alb["catalog"].id
  referenced_security_group_id = aws_security_group.alb["dagster"].id
  from_port                    = 80
  to_port                      = 80
  ip_protocol                  = "tcp"
}

resource "aws_vpc_security_group_egress_rule" "catalog_egress" {
  security_group_id = aws_security_group.alb["catalog"].id
  cidr_ipv4         = "0.0.0.0/0"
  from_port         = 443
  to_port           = 443
  ip_protocol       = "tcp"
}

resource "aws_security_group_rule" "dagster_http" {
  type              = "ingress"
  security_group_id = aws_security_group.alb["dagster"].id
  cidr_blocks       = ["10.0.0.0/8"]
  ipv6_cidr_blocks  = ["::/0"]
  from_port         = 80
  to_port           = 80
  protocol          = "tcp"
}

resource "aws_security_group" "legacy" {
  name   = "zzfixture-legacy"
  vpc_id = aws_vpc.main.id

  ingress {
    cidr_blocks = ["172.16.0.0/12"]
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
  }

  ingress {
    cidr_blocks = ["0.0.0.0/0"]
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
  }
}

resource "aws_lb" "this" {
  for_each                   = { catalog = { internal = false, protect = true }, dagster = { internal = true, protect = false } }
  name                       = "zzfixture-${each.key}"
  load_balancer_type         = "application"
  internal                   = each.value.internal
  subnets                    = [for s in aws_subnet.private : s.id]
  security_groups            = [aws_security_group.alb[each.key].id]
  enable_deletion_protection = each.value.protect
}
