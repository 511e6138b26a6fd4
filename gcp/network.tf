# Private network: Cloud Run reaches Cloud SQL over its private IP through
# Direct VPC egress; Cloud SQL has no public IP.

resource "google_compute_network" "main" {
  name                    = "${local.name_prefix}-vpc"
  auto_create_subnetworks = false

  depends_on = [google_project_service.required]
}

resource "google_compute_subnetwork" "catalog" {
  name                     = "${local.name_prefix}-catalog"
  network                  = google_compute_network.main.id
  region                   = var.gcp_region
  ip_cidr_range            = local.catalog_subnet_cidr
  private_ip_google_access = true
}

resource "google_compute_global_address" "private_services" {
  name          = "${local.name_prefix}-psa"
  purpose       = "VPC_PEERING"
  address_type  = "INTERNAL"
  prefix_length = 20
  network       = google_compute_network.main.id
}

resource "google_service_networking_connection" "private_services" {
  network                 = google_compute_network.main.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.private_services.name]
}

# Internet egress for the Dagster services (alert webhooks): they send all
# traffic into the VPC (to reach the internal catalog and code server), so
# what leaves Google's network goes through Cloud NAT.
resource "google_compute_router" "main" {
  count   = local.dagster ? 1 : 0
  name    = "${local.name_prefix}-router"
  region  = var.gcp_region
  network = google_compute_network.main.id
}

resource "google_compute_router_nat" "main" {
  count                              = local.dagster ? 1 : 0
  name                               = "${local.name_prefix}-nat"
  router                             = google_compute_router.main[0].name
  region                             = var.gcp_region
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "ALL_SUBNETWORKS_ALL_IP_RANGES"
}
