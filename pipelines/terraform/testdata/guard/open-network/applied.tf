# Applied to moto to make state.json (how: guardScenarios in
# host_guard_test.go): the catalog's network as the aws root builds it
# (internal load balancers, ingress from private ranges only, deletion
# protection), plus a security group written the older ways
# (aws_security_group_rule, inline ingress).
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
  for_each          = toset(["10.0.0.0/8"])
  security_group_id = aws_security_group.alb["catalog"].id
  cidr_ipv4         = each.value
  from_port         = 80
  to_port           = 80
  ip_protocol       = "tcp"
}

resource "aws_vpc_security_group_ingress_rule" "catalog_https" {
  security_group_id = aws_security_group.alb["catalog"].id
  cidr_ipv4         = "10.0.0.0/8"
  from_port         = 443
  to_port           = 443
  ip_protocol       = "tcp"
}

resource "aws_security_group_rule" "dagster_http" {
  type              = "ingress"
  security_group_id = aws_security_group.alb["dagster"].id
  cidr_blocks       = ["10.0.0.0/8"]
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
}

resource "aws_lb" "this" {
  for_each                   = toset(["catalog", "dagster"])
  name                       = "zzfixture-${each.key}"
  load_balancer_type         = "application"
  internal                   = true
  subnets                    = [for s in aws_subnet.private : s.id]
  security_groups            = [aws_security_group.alb[each.key].id]
  enable_deletion_protection = true
}
