# A complete use of the tap-pipeline module: one environment's queues, functions, table, key, alarms and
# dashboard, with the state in S3 and the provider in the caller's hands.
# From the module's folder (`make module` writes dist/terraform-aws-tap-pipeline):
#   cd examples/complete && terraform init && terraform plan
# Elsewhere, point `source` at where the module is kept (a Git URL, a registry address or a path).
terraform {
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100.0, < 6.0.0"
    }
  }

  backend "s3" {
    bucket       = "acme-terraform-state"
    key          = "orders/dev.tfstate"
    region       = "eu-west-1"
    encrypt      = true
    use_lockfile = true
  }
}

provider "aws" {
  region              = "eu-west-1"
  allowed_account_ids = ["444455556666"]
}

module "tap_pipeline" {
  source = "../../"

  name_prefix = "orders"
  environment = "dev"
  tags = {
    Project    = "orders"
    CostCenter = "cc-1234"
    Owner      = "team-orders"
    ManagedBy  = "terraform"
  }

  # As the repository's dev environment: shorter logs, a table that may be deleted, alarms on the topic with
  # nobody subscribed yet. Staging and prod set alarm_email (or alarm_https_endpoint) instead.
  log_retention_days        = 14
  table_deletion_protection = false
  require_subscriber        = false

  # Every other input keeps the library's default: the module's README lists them. For production, e.g.:
  # alarm_email                       = "orders-oncall@example.com"
  # customer_managed_encryption       = true
  # table_billing_mode                = "PROVISIONED"
  # processor_reserved_concurrency    = 50
  # processor_provisioned_concurrency = 2
}

output "ingest_queue_url" {
  description = "Where producers send records."
  value       = module.tap_pipeline.ingest_queue_url
}

output "table_arn" {
  value = module.tap_pipeline.table_arn
}

output "alarm_topic_arn" {
  value = module.tap_pipeline.alarm_topic_arn
}
