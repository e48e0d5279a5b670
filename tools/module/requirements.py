"""What the module requires of its caller: the Terraform and AWS provider versions it is tested with."""

from __future__ import annotations

#: The AWS provider versions the module is tested with: the bindings are generated from 5.100.0, the version
#: of the machines' provider mirror; 6.0 renames attributes the module sets.
AWS_PROVIDER_VERSIONS = ">= 5.100.0, < 6.0.0"
AWS_PROVIDER_SOURCE = "hashicorp/aws"
#: Validation conditions that read other variables need Terraform 1.9; tested with 1.11.
REQUIRED_TERRAFORM_VERSION = ">= 1.9"
