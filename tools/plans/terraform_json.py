"""Terraform's JSON representation (``terraform show -json`` of a plan or a state) read across module calls.

A root that calls a module (the generated terraform-aws-tap-pipeline, for one) holds its resources in
nested modules: the values under ``root_module.child_modules`` (each resource with its absolute address,
``module.tap_pipeline.aws_sqs_queue.q``), the configuration under
``configuration.root_module.module_calls.<call>.module`` (addresses and references relative to that module,
without instance keys). These readers give every module's resources, so that what reads a synthesized
stack's root module reads a module call's the same way.
See https://developer.hashicorp.com/terraform/internals/json-format (values representation, configuration
representation).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

#: An instance key in an address: ``[0]`` (count) or ``["eu"]`` (for_each).
INSTANCE_KEY = re.compile(r'\[(?:\d+|"(?:[^"\\]|\\.)*")\]')


def value_resources(module: Mapping[str, Any] | None) -> Iterator[dict[str, Any]]:
    """Every resource (managed and data) of a values representation's module (``root_module`` of
    ``planned_values`` or ``prior_state.values``) and of its child modules, at any depth."""
    yield from (module or {}).get("resources") or []
    for child in (module or {}).get("child_modules") or []:
        yield from value_resources(child)


def module_of(resource: Mapping[str, Any]) -> str:
    """The address of the module instance a values representation's resource is in (``""``: the root)."""
    own = f"{'data.' if resource.get('mode') == 'data' else ''}{resource['type']}.{resource['name']}"
    return resource["address"][: resource["address"].rfind(own)].removesuffix(".")


def configuration_resources(configuration: Mapping[str, Any] | None) -> Iterator[tuple[str, dict[str, Any]]]:
    """(module prefix, resource) for every resource of a plan's ``configuration``: the prefix is ``""`` in
    the root module and ``module.<call>.`` (``module.a.module.b.`` nested) in a module call, so that prefix
    plus the resource's ``address`` is its configuration address (:func:`configuration_address`), and the
    references in its expressions name resources under the same prefix."""
    pending: list[tuple[str, Mapping[str, Any]]] = [("", (configuration or {}).get("root_module") or {})]
    while pending:
        prefix, module = pending.pop(0)
        for resource in module.get("resources") or []:
            yield prefix, resource
        for call, body in (module.get("module_calls") or {}).items():
            pending.append((f"{prefix}module.{call}.", body.get("module") or {}))


def configuration_address(address: str) -> str:
    """An absolute address as the configuration names it: without the instance keys of its modules and its
    own (``module.p["eu"].aws_x.y[0]`` -> ``module.p.aws_x.y``)."""
    return INSTANCE_KEY.sub("", address)
