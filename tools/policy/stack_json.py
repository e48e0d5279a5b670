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
