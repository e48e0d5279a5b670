"""What the bill depends on, read from a plan: the prior state's values (before) or the planned values (after).

The cost model reads a synthesized stack (:func:`tools.cost.config.read_stack`), whose resources are linked
by ``${type.name.attr}`` references.  A plan's values hold what those references became (an alias ARN, a
queue ARN, a function name), or nothing yet for a value known only after apply.  So the values are put in
the same shape, each link turned back into a reference: to the one resource whose identity (its ARN, name
or URL) it equals, or, when it is unknown, to what the plan's configuration says it refers to.  Nested
blocks, single-element lists in a plan, become the objects the synthesized JSON has.  A root that calls the
generated module holds the same resources in a child module, and their configuration in the module call,
whose references are relative to the module as a stack's are to the stack: they are read there alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tools.cost.config import PipelineConfig, read_stack
from tools.cost.errors import CostInputError
from tools.plans.terraform_json import configuration_address, configuration_resources, module_of, value_resources

#: The attributes by which other resources designate a resource of each type.
IDENTITY = {
    "aws_lambda_function": ("function_name", "arn"),
    "aws_lambda_alias": ("arn",),
    "aws_sqs_queue": ("arn", "url"),
    "aws_appautoscaling_target": ("resource_id",),
}
#: The attributes the cost model follows from one resource to another.
LINKS = ("function_name", "event_source_arn", "resource_id")
#: Nested blocks the cost model reads as objects.
BLOCKS = ("point_in_time_recovery", "target_tracking_scaling_policy_configuration", "scaling_config")
#: Nested blocks inside repeated blocks: (the repeated block, its nested block), e.g. an alarm's metric queries.
INNER_BLOCKS = (("metric_query", "metric"),)


def module_resources(values: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The managed resources of a plan's ``prior_state.values`` or ``planned_values``: the root module's (a
    synthesized stack) and its child modules' (a root calling the generated module).  CostInputError when
    two modules hold a resource of the same name: that is two pipelines, and the model prices one."""
    resources = [r for r in value_resources((values or {}).get("root_module")) if r.get("mode") == "managed"]
    seen: dict[tuple[str, str], str] = {}
    for resource in resources:
        module = module_of(resource)
        other = seen.setdefault((resource["type"], resource["name"]), module)
        if other != module:
            raise CostInputError(f"{resource['type']}.{resource['name']} is in {other or 'the root module'} and in "
                                 f"{module or 'the root module'}: the plan holds more than one pipeline, and the "
                                 "cost review prices one; plan each pipeline in a root of its own")
    return resources


def _block(value: Any) -> Any:
    """A single nested block as the synthesized JSON has it: the object, not a list of one ({} for none)."""
    if isinstance(value, list):
        return value[0] if value and isinstance(value[0], dict) else {}
    return value


def _unwrapped(values: Mapping[str, Any]) -> dict[str, Any]:
    body = dict(values)
    for block in BLOCKS:
        if block in body:
            body[block] = _block(body[block])
    for repeated, inner in INNER_BLOCKS:
        if isinstance(body.get(repeated), list):
            body[repeated] = [{**item, inner: _block(item.get(inner))} if isinstance(item, dict) else item
                              for item in body[repeated]]
    return body


def _configured_references(configuration: Mapping[str, Any] | None) -> dict[tuple[str, str], str]:
    """(configuration address, attribute) -> the ``${...}`` template a link attribute is configured with (a
    module's templates name the module's resources, which :func:`stack_document` names as a stack would)."""
    found = {}
    for prefix, resource in configuration_resources(configuration):
        for attribute in LINKS:
            expression = (resource.get("expressions") or {}).get(attribute) or {}
            template = expression.get("constant_value")
            if expression.get("references") and isinstance(template, str) and template.startswith("${"):
                found[(prefix + resource["address"], attribute)] = template
    return found


def _link(resource: Mapping[str, Any], attribute: str, value: Any,
          identities: Mapping[str, list[tuple[str, dict[str, Any]]]]) -> Any:
    """The reference a link value stands for, or the value itself when it designates no single resource."""
    if not isinstance(value, str) or not value:
        return value
    own = f"{resource['type']}.{resource['name']}."
    candidates = [(ref, body) for ref, body in identities.get(value, []) if not ref.startswith(own)]
    if resource["type"] == "aws_appautoscaling_policy":
        # A table's read and write targets share the resource_id: the dimension tells them apart.
        dimension = (resource.get("values") or {}).get("scalable_dimension")
        candidates = [(ref, body) for ref, body in candidates if body.get("scalable_dimension") == dimension]
    return f"${{{candidates[0][0]}}}" if len(candidates) == 1 else value


def stack_document(resources: Iterable[Mapping[str, Any]],
                   configuration: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The resources in the synthesized stack's shape, ``{"resource": {type: {name: body}}}``, linked."""
    resources = list(resources)
    identities: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for resource in resources:
        values = resource.get("values") or {}
        for attribute in IDENTITY.get(resource["type"], ()):
            if isinstance(values.get(attribute), str) and values[attribute]:
                identities.setdefault(values[attribute], []).append(
                    (f"{resource['type']}.{resource['name']}.{attribute}", values))
    configured = _configured_references(configuration)
    document: dict[str, Any] = {"resource": {}}
    for resource in resources:
        body = _unwrapped(resource.get("values") or {})
        address = configuration_address(resource["address"])
        for attribute in LINKS:
            if body.get(attribute) is None and (address, attribute) in configured:
                body[attribute] = configured[(address, attribute)]
            else:
                body[attribute] = _link(resource, attribute, body.get(attribute), identities)
            if body[attribute] is None:
                del body[attribute]
        document["resource"].setdefault(resource["type"], {})[resource["name"]] = body
    return document


def pipeline_from_values(values: Mapping[str, Any] | None, name: str,
                         configuration: Mapping[str, Any] | None = None) -> PipelineConfig | None:
    """The cost-relevant configuration the values describe; None when there are no resources at all (a
    stack not deployed yet costs nothing).  CostInputError when they are not a whole pipeline."""
    resources = module_resources(values)
    if not resources:
        return None
    return read_stack(stack_document(resources, configuration), name)


__all__ = ["CostInputError", "pipeline_from_values", "stack_document"]
