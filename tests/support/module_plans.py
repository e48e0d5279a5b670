"""Offline Terraform runs of the generated module: roots that call it, planned without AWS.

Each root sits inside a copy of the module (``<module>/examples/<name>``, ``source = "../../"``), gets the offline
override of the project's offline plans (local backend, stub credentials, no refresh), and sends the two AWS
calls the module makes at plan time to an in-process moto server: STS (the caller's account, which the key
policy names) and SSM (AWS's public Powertools parameter, answered with a stand-in layer ARN).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.shared_init import copy_init_results
from tests.support.shared_provider import shared_providers
from tools.module.example import MODULE_BLOCK
from tools.module.requirements import AWS_PROVIDER_SOURCE, AWS_PROVIDER_VERSIONS
from tools.plans import offline, public_parameters
from tools.terraform_cli import run_terraform

REGION = "eu-west-1"
PLAN_FILE = "plan.tfplan"


@dataclass(frozen=True)
class ModulePlan:
    """One root's plan: its exit code, the error diagnostics by summary and detail, and the plan JSON (when it
    succeeded)."""

    root: Path
    returncode: int
    errors: tuple[tuple[str, str], ...]
    plan: dict[str, Any] = field(default_factory=dict)

    def invalid_values(self) -> list[tuple[str, str]]:
        """Every failed validation block as (label, message), sorted: the label is what the message starts with,
        before its ``=``."""
        found = []
        for summary, detail in self.errors:
            if summary == "Invalid value for variable":
                message = detail.split("\n\nThis was checked by", 1)[0].strip()
                found.append((message.split("=", 1)[0], message))
        return sorted(found)

    def managed_counts(self) -> Counter:
        """Resource types and how many of each the plan creates."""
        return Counter(change["type"] for change in self.plan.get("resource_changes", [])
                       if change["mode"] == "managed" and change["change"]["actions"] == ["create"])


def module_root(inputs: dict[str, Any]) -> dict[str, Any]:
    """A root configuration (JSON) that calls the module, from the module's ``examples/<name>``, with ``inputs``."""
    return {
        "terraform": {"required_providers": {"aws": {"source": AWS_PROVIDER_SOURCE,
                                                     "version": AWS_PROVIDER_VERSIONS}}},
        "provider": {"aws": [{"region": REGION}]},
        "module": {MODULE_BLOCK: {"source": "../../", **inputs}},
    }


def endpoint_environment(module_dir: Path) -> dict[str, str]:
    """The environment that sends the module's plan-time AWS calls, STS and SSM, to the in-process moto server."""
    document = json.loads((module_dir / "main.tf.json").read_text())
    public = [body["name"] for body in document["data"]["aws_ssm_parameter"].values()]
    endpoint = public_parameters.serve(public, REGION)
    return offline.endpoint_variables({"ssm": endpoint, "sts": endpoint})


def init_root(root: Path) -> None:
    """``terraform init`` of ``root`` from the provider mirror, with the offline override."""
    offline.write_override(root, region=REGION)
    run_terraform(["init", "-input=false", "-no-color"], root)


def share_init(initialized: Path, root: Path) -> None:
    """``root`` initialized as ``initialized`` is, without another ``terraform init``: every root of the module
    calls it from ``examples/<name>`` with the same providers and the same local backend, so the working
    directory Terraform keeps (``.terraform``: the module's path, provider links, the backend) is the same."""
    offline.write_override(root, region=REGION)
    copy_init_results(initialized, root)


def plan_root(root: Path, endpoints: dict[str, str]) -> ModulePlan:
    """An offline ``plan`` of the initialized ``root``, its AWS calls sent to ``endpoints``
    (:func:`endpoint_environment`)."""
    providers = shared_providers()
    result = providers.run_terraform(["plan", "-input=false", "-no-color", "-refresh=false", "-json",
                                      f"-out={PLAN_FILE}"], root, check=False, extra_env=endpoints)
    errors = []
    for line in result.stdout.splitlines():
        if not line.startswith("{"):
            continue
        entry = json.loads(line)
        diagnostic = entry.get("diagnostic") or {}
        if entry.get("type") == "diagnostic" and diagnostic.get("severity") == "error":
            errors.append((diagnostic.get("summary", ""), diagnostic.get("detail", "")))
    plan: dict[str, Any] = {}
    if result.returncode == 0:
        plan = json.loads(providers.run_terraform(["show", "-json", "-no-color", PLAN_FILE], root,
                                                  extra_env=endpoints).stdout)
    return ModulePlan(root, result.returncode, tuple(errors), plan)


def write_root(module_dir: Path, name: str, inputs: dict[str, Any]) -> Path:
    root = module_dir / "examples" / name
    root.mkdir(parents=True, exist_ok=True)
    (root / "main.tf.json").write_text(json.dumps(module_root(inputs), indent=2))
    return root
