"""Real Terraform plans without an AWS account.

An override file in the working copy replaces the backend with a local state file and stubs the
provider's credentials, and the plan skips refresh, so that Terraform plans against a given prior
state (a v4 state JSON) and never calls AWS.  Data sources that call AWS can be pointed at a local
emulator with :func:`endpoint_variables`.  :func:`state_from_plan` turns a plan into the state its apply would leave
(unknown values filled by the provider schema's types), which gives realistic prior states for tests.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

OVERRIDE_FILE = "offline_override.tf.json"
STATE_FILE = "offline.tfstate"
PROVIDER = 'provider["registry.terraform.io/hashicorp/aws"]'
FAKE_ACCOUNT = "123456789012"
#: The stub access key of the override: a plan whose AWS provider has it was made offline.
STUB_ACCESS_KEY = "offline"
SCALAR_TYPES = {str: "string", bool: "bool", int: "number", float: "number"}


#: The AWS SDKs' variable for each service's endpoint: AWS_ENDPOINT_URL_ and the service's SDK id, upper-cased,
#: spaces as underscores (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html and its table
#: of identifiers, ss-endpoints-table.html); the AWS provider reads them as it reads an ``endpoints`` block
#: (https://registry.terraform.io/providers/hashicorp/aws/latest/docs/guides/custom-service-endpoints).
ENDPOINT_VARIABLES = {
    "dynamodb": "AWS_ENDPOINT_URL_DYNAMODB",
    "iam": "AWS_ENDPOINT_URL_IAM",
    "lambda": "AWS_ENDPOINT_URL_LAMBDA",
    "logs": "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
    "s3": "AWS_ENDPOINT_URL_S3",
    "sqs": "AWS_ENDPOINT_URL_SQS",
    "ssm": "AWS_ENDPOINT_URL_SSM",
    "sts": "AWS_ENDPOINT_URL_STS",
}


def endpoint_variables(endpoints: Mapping[str, str]) -> dict[str, str]:
    """The environment that sends each service's calls (by the provider's endpoint names: ``ssm``, ``logs`` ...)
    to its URL in ``endpoints``.

    Not an ``endpoints`` block in the override: the AWS provider 5.100 spends about 2 CPU s validating that block
    (whatever it holds) in every process that configures the provider: init, plan and show of prod took 8.2-9.0
    user s with it against 5.7-6.7 without, a plan of one queue 7.0 s against 2.7 s (docs/performance.md, "The
    endpoints block, and the emulator")."""
    unknown = sorted(set(endpoints) - set(ENDPOINT_VARIABLES))
    if unknown:
        raise ValueError(f"no endpoint variable is known for {', '.join(unknown)}: give endpoints of "
                         f"{', '.join(sorted(ENDPOINT_VARIABLES))}, or add the service's AWS_ENDPOINT_URL_<ID> "
                         "to offline.ENDPOINT_VARIABLES")
    return {ENDPOINT_VARIABLES[service]: url for service, url in sorted(endpoints.items())}


def offline_override(region: str = "us-east-1") -> dict[str, Any]:
    """The override document: local backend, stub credentials, no account lookup or guard (endpoints, when a
    data source needs one, come from :func:`endpoint_variables`)."""
    provider: dict[str, Any] = {
        "region": region,
        "access_key": STUB_ACCESS_KEY,
        "secret_key": "offline",  # noqa: S105 - a stub: the offline plan never calls AWS
        "skip_credentials_validation": True,
        "skip_requesting_account_id": True,
        "skip_metadata_api_check": "true",
        # The stub credentials belong to no account: lift the stack's account guard for offline plans.
        "allowed_account_ids": None,
    }
    return {"terraform": {"backend": {"local": {"path": STATE_FILE}}}, "provider": {"aws": [provider]}}


def is_offline_plan(plan: Mapping[str, Any]) -> bool:
    """Whether the plan JSON's AWS provider configuration carries the offline override's stub key."""
    providers = (plan.get("configuration") or {}).get("provider_config") or {}
    return any(provider.get("name") == "aws"
               and (provider.get("expressions") or {}).get("access_key", {}).get("constant_value") == STUB_ACCESS_KEY
               for provider in providers.values())


def write_override(workdir: Path, region: str = "us-east-1") -> Path:
    path = workdir / OVERRIDE_FILE
    path.write_text(json.dumps(offline_override(region), indent=2))
    return path


def _placeholder(kind: Any, attribute: str, resource: str) -> Any:
    """A value of the schema type ``kind`` for an attribute only known after apply."""
    if isinstance(kind, list):
        return [] if kind[0] in ("list", "set") else {} if kind[0] in ("map", "object") else None
    if kind == "number":
        return 1
    if kind == "bool":
        return False
    if attribute == "arn" or attribute.endswith("_arn"):
        return f"arn:aws:offline:us-east-1:{FAKE_ACCOUNT}:{resource}"
    if attribute in ("id", "url", "name", "version", "qualified_arn"):
        return "1" if attribute == "version" else f"{attribute}-{resource}"
    return ""  # an optional computed string the provider leaves empty when not set


def state_from_plan(plan: Mapping[str, Any], schemas: Mapping[str, Any],
                    prior: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The v4 state a successful apply of ``plan`` would leave (outputs included, unknowns filled).

    Values known in ``prior`` are kept for attributes the plan does not know yet; planning again on the
    result converges in two or three rounds to a state with no changes.
    """
    prior_attributes = {
        (r["type"], r["name"]): r["instances"][0]["attributes"] for r in (prior or {}).get("resources", [])
    }
    versions = {r["address"]: r.get("schema_version", 0)
                for r in plan.get("configuration", {}).get("root_module", {}).get("resources", [])}
    resources = []
    for change in plan.get("resource_changes", []):
        actions = change["change"]["actions"]
        if change["mode"] != "managed" or actions == ["delete"]:
            continue
        schema = schemas[change["type"]]["block"]
        block = {**schema.get("attributes", {}),
                 **{n: {"type": ["list", None]} for n in schema.get("block_types", {})}}
        values = dict(change["change"]["after"] or {})
        known_before = prior_attributes.get((change["type"], change["name"]), {})
        for attribute, unknown in (change["change"]["after_unknown"] or {}).items():
            if unknown is True and values.get(attribute) is None:
                values[attribute] = known_before.get(attribute) or _placeholder(
                    block.get(attribute, {}).get("type"), attribute, change["name"])
        resources.append({
            "mode": "managed", "type": change["type"], "name": change["name"], "provider": PROVIDER,
            "instances": [{"schema_version": versions.get(change["address"], 0), "attributes": values,
                           "sensitive_attributes": []}],
        })
    outputs = {
        name: {"value": output["value"], "type": SCALAR_TYPES[type(output["value"])]}
        for name, output in plan.get("planned_values", {}).get("outputs", {}).items()
        if type(output.get("value")) in SCALAR_TYPES
    }
    serial = int((prior or {}).get("serial", 0)) + 1
    return {"version": 4, "terraform_version": plan.get("terraform_version", "1.11.4"), "serial": serial,
            "lineage": (prior or {}).get("lineage", "00000000-0000-4000-8000-000000000000"),
            "outputs": outputs, "resources": resources}
