"""Readers for synthesized Terraform JSON (cdk.tf.json): resources, references, policy statements."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REFERENCE = re.compile(r"\$\{((?:data\.)?[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}")


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    body: dict[str, Any]

    @property
    def address(self) -> str:
        return f"{self.type}.{self.name}"

    @property
    def path(self) -> str:
        """The construct path cdktf records, e.g. ``tap-pipeline-dev/validator/function``."""
        return self.body.get("//", {}).get("metadata", {}).get("path", "")


@dataclass
class StackJson:
    name: str
    directory: Path
    document: dict[str, Any]

    @classmethod
    def load(cls, directory: Path) -> StackJson:
        return cls(directory.name, directory, json.loads((directory / "cdk.tf.json").read_text()))

    def resources(self, type_: str | None = None) -> list[Resource]:
        found = [
            Resource(t, n, body)
            for t, by_name in self.document.get("resource", {}).items()
            for n, body in by_name.items()
            if type_ is None or t == type_
        ]
        return sorted(found, key=lambda r: r.address)

    def data(self, type_: str) -> list[Resource]:
        return [Resource(type_, n, b) for n, b in self.document.get("data", {}).get(type_, {}).items()]

    def resource(self, address: str) -> Resource:
        type_, name = address.split(".", 1)
        return Resource(type_, name, self.document["resource"][type_][name])

    def referenced(self, value: str) -> Resource:
        """The resource or data source a ``${type.name.attr}`` value points at."""
        type_, name, _ = reference(value)
        return self.data_source(f"{type_}.{name}") if type_.startswith("data.") else self.resource(f"{type_}.{name}")

    def data_source(self, address: str) -> Resource:
        type_, name = address.removeprefix("data.").split(".", 1)
        return Resource(type_, name, self.document["data"][type_][name])

    def by_path(self, suffix: str) -> Resource:
        matches = [r for r in self.resources() if r.path.endswith(suffix)]
        assert len(matches) == 1, f"{self.name}: expected one resource at */{suffix}, found {[r.path for r in matches]}"
        return matches[0]

    def outputs(self) -> dict[str, Any]:
        return self.document.get("output", {})


def reference(value: str) -> tuple[str, str, str]:
    """``${aws_sqs_queue.x.arn}`` -> ("aws_sqs_queue", "x", "arn"); fails on anything else."""
    match = REFERENCE.fullmatch(value)
    assert match, f"{value!r} is not a plain Terraform reference"
    return match.group(1), match.group(2), match.group(3)


def references_in(value: str) -> list[tuple[str, str, str]]:
    return [m.groups() for m in REFERENCE.finditer(value)]  # type: ignore[misc]


def iter_policy_statements(stack: StackJson) -> Iterator[tuple[Resource, dict[str, Any]]]:
    """Every statement of every aws_iam_policy_document data source of the stack."""
    for document in stack.data("aws_iam_policy_document"):
        for statement in document.body.get("statement", []):
            yield document, statement


MODULES_MANIFEST = Path(".terraform") / "modules" / "modules.json"


def generated_modules(workdir: Path) -> list[tuple[str, Path]]:
    """(address prefix, main.tf.json) of each module call of ``workdir`` whose module is written as JSON (the
    generated module), as ``terraform init`` installed them (``.terraform/modules/modules.json``, whose key of
    a nested call is ``a.b``): ``("module.tap_pipeline.", <module>/main.tf.json)``."""
    manifest = workdir / MODULES_MANIFEST
    modules = json.loads(manifest.read_text())["Modules"] if manifest.is_file() else []
    return [("".join(f"module.{call}." for call in m["Key"].split(".")), workdir / m["Dir"] / "main.tf.json")
            for m in modules if m["Key"] and (workdir / m["Dir"] / "main.tf.json").is_file()]


def module_plan_stack(workdir: Path, plan: dict[str, Any]) -> StackJson:
    """The configuration a plan of ``workdir`` was made from, when ``workdir`` calls this repository's generated
    module rather than holding a synthesized stack: the module's ``main.tf.json`` (its resources and references
    as cdktf wrote them), with each value that depends on the module's inputs replaced by the value the plan
    gives it, the resources that the plan does not create (``count`` 0) left out, and the caller's provider.

    The module is the one ``terraform init`` installed for ``workdir`` (``.terraform/modules/modules.json``).
    """
    generated = generated_modules(workdir)
    if len(generated) != 1:
        raise FileNotFoundError(f"{workdir} holds no cdk.tf.json and calls {len(generated)} generated modules "
                                "(main.tf.json): give a synthesized stack, or a root with one module block of "
                                "tap-pipeline's module, initialized")
    [(prefix, main)] = generated
    document = json.loads(main.read_text())
    planned = {}
    for change in plan.get("resource_changes", []):
        if change["address"].startswith(prefix) and change["change"]["actions"] != ["delete"]:
            address = change["address"].removeprefix(prefix).removesuffix("[0]")
            planned[address] = change["change"]
    for kind in ("resource", "data"):
        for type_, by_name in document.get(kind, {}).items():
            for name in list(by_name):
                address = f"{'data.' if kind == 'data' else ''}{type_}.{name}"
                if address not in planned:
                    del by_name[name]  # not created: count 0
                    continue
                by_name[name] = _with_planned_values(by_name[name], planned[address])
    provider = plan.get("configuration", {}).get("provider_config", {}).get("aws", {}).get("expressions", {})
    default_tags = [{"tags": block.get("tags", {}).get("constant_value", {})}
                    for block in provider.get("default_tags", [])]
    document["provider"] = {"aws": [{"default_tags": default_tags}]} if "provider_config" in plan.get(
        "configuration", {}) else {}
    return StackJson(workdir.name, workdir, document)


def _depends_on_inputs(value: Any) -> bool:
    if isinstance(value, str):
        return "var." in value or "count.index" in value
    if isinstance(value, dict):
        return any(_depends_on_inputs(v) for v in value.values())
    if isinstance(value, list):
        return any(_depends_on_inputs(v) for v in value)
    return False


def _with_planned_values(body: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """``body`` with each attribute that depends on the module's inputs at its planned value (where the plan
    knows it); a single nested block, a list in the plan, as cdktf writes it (an object)."""
    after, unknown = change.get("after") or {}, change.get("after_unknown") or {}
    resolved = {key: value for key, value in body.items() if key != "count"}
    for key, value in body.items():
        if key == "count" or not _depends_on_inputs(value) or unknown.get(key) is True or key not in after:
            continue
        planned = after[key]
        if isinstance(value, dict) and isinstance(planned, list) and len(planned) == 1:
            planned = planned[0]
        resolved[key] = planned
    return resolved
