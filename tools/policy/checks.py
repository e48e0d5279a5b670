"""Project policy checks on synthesized stacks: what checkov cannot see.

Each check reads one stack's ``cdk.tf.json`` and returns its violations as
sentences (an empty list means it passes).  The tests run every check on every
stack; operators run them before a deploy with ``python -m tools policy-check``
(see ``tools/policy/cli.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection

from modules.resourceless_actions import unnarrowed
from modules.settings import REQUIRED_TAGS
from tools.policy.stack_json import REFERENCE, Resource, StackJson, iter_policy_statements


def _referenced(stack: StackJson, value: object) -> Resource | None:
    if not (isinstance(value, str) and REFERENCE.fullmatch(value)):
        return None
    try:
        return stack.referenced(value)
    except KeyError:  # a reference to nothing in this stack: the caller reports what it needed
        return None


def _queue_by_arn_reference(stack: StackJson, value: str) -> Resource | None:
    resource = _referenced(stack, value)
    return resource if resource is not None and resource.type == "aws_sqs_queue" else None


def _function_behind(stack: StackJson, mapping: Resource) -> Resource | None:
    target = _referenced(stack, mapping.body.get("function_name"))
    if target is not None and target.type == "aws_lambda_alias":
        target = _referenced(stack, target.body.get("function_name"))
    return target if target is not None and target.type == "aws_lambda_function" else None


def _redrive_targets(stack: StackJson) -> dict[str, tuple[str, int]]:
    """queue address -> (DLQ address, maxReceiveCount), from redrive policies inline or as resources."""
    found: dict[str, tuple[str, int]] = {}
    policies = [(q.address, q.body.get("redrive_policy")) for q in stack.resources("aws_sqs_queue")]
    for resource in stack.resources("aws_sqs_queue_redrive_policy"):
        queue = _referenced(stack, resource.body.get("queue_url"))
        policies.append((queue.address if queue else resource.address, resource.body.get("redrive_policy")))
    for address, text in policies:
        if not text:
            continue
        policy = json.loads(text)
        dlq = _queue_by_arn_reference(stack, policy.get("deadLetterTargetArn", ""))
        if dlq is not None:
            found[address] = (dlq.address, int(policy.get("maxReceiveCount", 0)))
    return found


def check_queues_redrive(stack: StackJson) -> list[str]:
    """Every queue redrives to a DLQ, unless it is itself terminal (a DLQ or the rejects queue), which then alarms
    as soon as it holds a message."""
    violations = []
    redrives = _redrive_targets(stack)
    dead_letter_queues = {dlq for dlq, _ in redrives.values()}
    watched = {
        alarm.body.get("dimensions", {}).get("QueueName")
        for alarm in stack.resources("aws_cloudwatch_metric_alarm")
        if alarm.body.get("metric_name") == "ApproximateNumberOfMessagesVisible" and alarm.body.get("threshold") == 0
    }
    consumed = {
        q.address for m in stack.resources("aws_lambda_event_source_mapping")
        if (q := _queue_by_arn_reference(stack, m.body.get("event_source_arn", ""))) is not None
    }
    for queue in stack.resources("aws_sqs_queue"):
        name = queue.body.get("name")
        if queue.address in redrives:
            if redrives[queue.address][1] < 1:
                violations.append(f"{name}: redrive policy has no maxReceiveCount")
            continue
        if queue.address in consumed:
            violations.append(f"{name}: consumed by a function but has no dead-letter queue")
        elif name not in watched:
            violations.append(f"{name}: neither redrives to a DLQ nor alarms when it holds messages")
        elif queue.address not in dead_letter_queues and queue.body.get("message_retention_seconds") != 1209600:
            violations.append(f"{name}: a terminal queue must keep messages 14 days (1209600 s)")
    return violations


def check_visibility_timeouts(stack: StackJson) -> list[str]:
    """Every consumed queue's visibility timeout >= 6 x its consumer's timeout + batching window."""
    violations = []
    for mapping in stack.resources("aws_lambda_event_source_mapping"):
        queue = _queue_by_arn_reference(stack, mapping.body.get("event_source_arn", ""))
        function = _function_behind(stack, mapping)
        if queue is None or function is None:
            violations.append(f"{mapping.address}: cannot resolve its queue and function")
            continue
        window = int(mapping.body.get("maximum_batching_window_in_seconds", 0))
        needed = 6 * int(function.body.get("timeout", 3)) + window
        actual = int(queue.body.get("visibility_timeout_seconds", 30))
        if actual < needed:
            violations.append(f"{queue.body['name']}: visibility timeout {actual} s < 6 x "
                              f"{function.body['function_name']} timeout + window = {needed} s")
    return violations


def check_event_source_mappings(stack: StackJson) -> list[str]:
    """Every event source mapping reports batch item failures and invokes an alias, not $LATEST."""
    violations = []
    for mapping in stack.resources("aws_lambda_event_source_mapping"):
        if "ReportBatchItemFailures" not in mapping.body.get("function_response_types", []):
            violations.append(f"{mapping.address}: does not report batch item failures")
        target = _referenced(stack, mapping.body.get("function_name"))
        if target is None or target.type != "aws_lambda_alias":
            violations.append(f"{mapping.address}: invokes {mapping.body.get('function_name')!r}, not an alias")
    return violations


def check_concurrency(stack: StackJson) -> list[str]:
    """Reserved concurrency (where set) >= the event source's maximum concurrency."""
    violations = []
    for mapping in stack.resources("aws_lambda_event_source_mapping"):
        function = _function_behind(stack, mapping)
        maximum = (mapping.body.get("scaling_config") or {}).get("maximum_concurrency")
        reserved = function.body.get("reserved_concurrent_executions") if function else None
        if function is not None and reserved not in (None, -1) and maximum is not None and reserved < maximum:
            violations.append(f"{function.body['function_name']}: reserved concurrency {reserved} < "
                              f"event source maximum concurrency {maximum}")
    return violations


def check_iam_wildcards(stack: StackJson) -> list[str]:
    """No IAM action wildcard; a "*" resource only for the actions IAM defines on no resource, each write with
    the condition that narrows it (modules/resourceless_actions.py)."""
    violations = []
    for document, statement in iter_policy_statements(stack):
        if statement.get("effect", "Allow") != "Allow":
            continue
        where = f"{document.name}/{statement.get('sid', '?')}"
        actions = set(statement.get("actions", []))
        if any("*" in action for action in actions):
            violations.append(f"{where}: wildcard action in {sorted(actions)}")
        if "*" not in statement.get("resources", []):
            continue
        narrowable, missing = unnarrowed(actions, {c.get("variable") for c in statement.get("condition", [])})
        if narrowable:
            violations.append(f"{where}: resource \"*\" for {sorted(actions)}")
        elif missing:
            violations.append(f"{where}: resource \"*\" for {sorted(actions)} without the condition on {missing} "
                              "that narrows it")
    return violations


def check_function_log_groups(stack: StackJson) -> list[str]:
    """Every function depends on its own log group, which has a retention."""
    violations = []
    groups = {g.body.get("name"): g for g in stack.resources("aws_cloudwatch_log_group")}
    for function in stack.resources("aws_lambda_function"):
        name = function.body.get("function_name")
        group = groups.get(f"/aws/lambda/{name}")
        if group is None:
            violations.append(f"{name}: no log group /aws/lambda/{name}")
            continue
        if group.address not in function.body.get("depends_on", []):
            violations.append(f"{name}: does not depend on its log group")
        if not group.body.get("retention_in_days"):
            violations.append(f"{group.body['name']}: no retention")
    return violations


def check_mappings_wait_for_role_policy(stack: StackJson) -> list[str]:
    """Every event source mapping depends on its function's role policy (AWS checks it at creation)."""
    violations = []
    for mapping in stack.resources("aws_lambda_event_source_mapping"):
        function = _function_behind(stack, mapping)
        role = _referenced(stack, function.body.get("role")) if function else None
        policies = [p.address for p in stack.resources("aws_iam_role_policy")
                    if role is not None and _referenced(stack, p.body.get("role")) == role]
        if not policies or not set(policies) <= set(mapping.body.get("depends_on", [])):
            violations.append(f"{mapping.address}: does not depend on its role's policy {policies}")
    return violations


def check_tags(stack: StackJson, taggable_types: Collection[str]) -> list[str]:
    """Every taggable resource carries the five cost tags, from the provider's default tags or its own tags (as
    the resources of TapPipeline and of the generated module do, whatever the caller's provider sets), and adds
    its Component."""
    violations = []
    taggable = [resource for resource in stack.resources() if resource.type in taggable_types]

    def on_every_resource(tag: str) -> bool:
        return bool(taggable) and all(str((r.body.get("tags") or {}).get(tag, "")).strip() for r in taggable)

    providers = stack.document.get("provider", {}).get("aws", [])
    for provider in providers:
        tags = (provider.get("default_tags") or [{}])[0].get("tags", {})
        missing = [t for t in REQUIRED_TAGS if not str(tags.get(t, "")).strip() and not on_every_resource(t)]
        if missing:
            violations.append(f"provider aws: default_tags lack {missing}")
    if not providers:
        violations.append("no aws provider")
    for resource in taggable:
        if not (resource.body.get("tags") or {}).get("Component"):
            violations.append(f"{resource.address}: taggable but has no Component tag")
    return violations


STRUCTURAL_CHECKS: tuple[Callable[[StackJson], list[str]], ...] = (
    check_queues_redrive,
    check_visibility_timeouts,
    check_event_source_mappings,
    check_concurrency,
    check_iam_wildcards,
    check_function_log_groups,
    check_mappings_wait_for_role_policy,
)


def taggable_types_from_schema(schema: dict) -> set[str]:
    """Resource types whose schema has a ``tags`` argument (from ``terraform providers schema -json``)."""
    [provider] = [p for name, p in schema["provider_schemas"].items() if name.endswith("hashicorp/aws")]
    return {
        type_ for type_, resource in provider["resource_schemas"].items()
        if "tags" in resource["block"].get("attributes", {})
    }


def run_all(stack: StackJson, taggable_types: Collection[str] | None = None) -> list[str]:
    violations = [v for check in STRUCTURAL_CHECKS for v in check(stack)]
    if taggable_types is not None:
        violations += check_tags(stack, taggable_types)
    return violations
