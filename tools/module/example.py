"""The module's complete example in plain HCL: a provider, a backend and one ``module`` block.

It is written into the module (``examples/complete/main.tf``) and committed as ``examples/terraform/main.tf``
(tests/module/test_module_files.py holds the two equal). Its inputs are the shipped ``dev`` environment's
(environments.toml): the tests plan it offline and compare its resources with the ``dev`` stack's.
"""

from __future__ import annotations

from pathlib import Path

from tools.module.requirements import AWS_PROVIDER_SOURCE, AWS_PROVIDER_VERSIONS, REQUIRED_TERRAFORM_VERSION

#: Where the example sits in the module, and its committed copy in the repository.
EXAMPLE_PATH = Path("examples") / "complete" / "main.tf"
REPOSITORY_COPY = Path(__file__).resolve().parents[2] / "examples" / "terraform" / "main.tf"
#: The module's name in the example, so its resources are ``module.tap_pipeline.<type>.<name>``.
MODULE_BLOCK = "tap_pipeline"


def example_hcl() -> str:
    """The example's text."""
    return f'''# A complete use of the tap-pipeline module: one environment's queues, functions, table, key, alarms and
# dashboard, with the state in S3 and the provider in the caller's hands.
# From the module's folder (`make module` writes dist/terraform-aws-tap-pipeline):
#   cd examples/complete && terraform init && terraform plan
# Elsewhere, point `source` at where the module is kept (a Git URL, a registry address or a path).
terraform {{
  required_version = "{REQUIRED_TERRAFORM_VERSION}"

  required_providers {{
    aws = {{
      source  = "{AWS_PROVIDER_SOURCE}"
      version = "{AWS_PROVIDER_VERSIONS}"
    }}
  }}

  backend "s3" {{
    bucket       = "acme-terraform-state"
    key          = "orders/dev.tfstate"
    region       = "eu-west-1"
    encrypt      = true
    use_lockfile = true
  }}
}}

provider "aws" {{
  region              = "eu-west-1"
  allowed_account_ids = ["444455556666"]
}}

module "{MODULE_BLOCK}" {{
  source = "../../"

  name_prefix = "orders"
  environment = "dev"
  tags = {{
    Project    = "orders"
    CostCenter = "cc-1234"
    Owner      = "team-orders"
    ManagedBy  = "terraform"
  }}

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
}}

output "ingest_queue_url" {{
  description = "Where producers send records."
  value       = module.{MODULE_BLOCK}.ingest_queue_url
}}

output "table_arn" {{
  value = module.{MODULE_BLOCK}.table_arn
}}

output "alarm_topic_arn" {{
  value = module.{MODULE_BLOCK}.alarm_topic_arn
}}
'''
