"""What the bill depends on, read from a synthesized stack (cdk.tf.json) by resource type and attribute.

Construct paths and logical names are not relied on: functions are told apart by the stage name in their
``function_name``, and everything else is linked through ``${type.name.attr}`` references.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.cost.errors import CostInputError
from tools.cost.usage import STAGES

REFERENCE = re.compile(r"\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}")
# Lambda's SQS pollers long-poll with the longest wait SQS allows.
DEFAULT_LONG_POLL_S = 20


@dataclass(frozen=True)
class FunctionConfig:
    """One stage's function and, when a queue feeds it, its event source mapping."""

    stage: str
    memory_mb: int
    architecture: str
    batch_size: int = 1
    batching_window_s: float = 0
    provisioned_concurrency: int = 0
    queue_fed: bool = True
    long_poll_s: float = DEFAULT_LONG_POLL_S
    log_retention_days: int | None = None  # None: the log group never expires


@dataclass(frozen=True)
class TableConfig:
    """The records table's billing: on demand, or provisioned with fixed capacity or autoscaling bounds."""

    billing_mode: str
    read_capacity: int = 0
    write_capacity: int = 0
    read_bounds: tuple[int, int] | None = None
    write_bounds: tuple[int, int] | None = None
    write_target_utilization: float = 70.0
    read_target_utilization: float = 70.0
    point_in_time_recovery: bool = False


@dataclass(frozen=True)
class PipelineConfig:
    """Everything the cost model reads from one environment's configuration."""

    name: str
    functions: dict[str, FunctionConfig]
    table: TableConfig
    #: Alarm metrics, as CloudWatch bills them: one per alarm on a metric, one per metric a math alarm reads.
    standard_alarms: int = 0
    high_resolution_alarms: int = 0
    dashboards: int = 0
    kms_keys: int = 0
    queues: int = 0
    handler_logging: bool = True


def _resources(document: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return document.get("resource", {}).get(type_, {})


def _follow(document: dict[str, Any], value: Any, wanted: str) -> dict[str, Any] | None:
    """Follow ``${type.name.attr}`` references (through aliases) until a resource of type ``wanted``."""
    seen = set()
    while isinstance(value, str):
        match = REFERENCE.search(value)
        if not match or match.group(0) in seen:
            return None
        seen.add(match.group(0))
        type_, name, _ = match.groups()
        body = _resources(document, type_).get(name)
        if body is None:
            return None
        if type_ == wanted:
            return body
        value = body.get("function_name")
    return None


def _stage_of(function_name: str, stack: str) -> str:
    stages = [s for s in STAGES if s in function_name]
    if len(stages) != 1:
        raise CostInputError(f"{stack}: cannot tell which stage the function {function_name!r} is: its name "
                             f"must contain exactly one of {', '.join(STAGES)}")
    return stages[0]


def _function_by_reference(document: dict[str, Any], value: Any, functions: dict[str, str]) -> str | None:
    """The stage of the function a reference (or a literal function name) designates."""
    body = _follow(document, value, "aws_lambda_function")
    name = body.get("function_name") if body else value
    return functions.get(name) if isinstance(name, str) else None


def _autoscaling(document: dict[str, Any]) -> dict[str, tuple[tuple[int, int], float]]:
    bounds: dict[str, tuple[tuple[int, int], float]] = {}
    targets = _resources(document, "aws_appautoscaling_target")
    utilization = {}
    for policy in _resources(document, "aws_appautoscaling_policy").values():
        config = policy.get("target_tracking_scaling_policy_configuration", {})
        target = _follow(document, policy.get("resource_id"), "aws_appautoscaling_target")
        if target is not None and "target_value" in config:
            utilization[id(target)] = float(config["target_value"])
    for target in targets.values():
        if target.get("service_namespace") != "dynamodb":
            continue
        kind = "read" if "Read" in target.get("scalable_dimension", "") else "write"
        bounds[kind] = ((int(target["min_capacity"]), int(target["max_capacity"])), utilization.get(id(target), 70.0))
    return bounds


def read_stack(document: dict[str, Any], name: str) -> PipelineConfig:
    """The cost-relevant configuration of one synthesized pipeline stack."""
    lambdas = _resources(document, "aws_lambda_function")
    if not lambdas:
        raise CostInputError(f"{name}: no aws_lambda_function in the stack; is it a pipeline stack?")
    unnamed = sorted(key for key, body in lambdas.items() if not body.get("function_name"))
    if unnamed:
        raise CostInputError(f"{name}: aws_lambda_function {', '.join(unnamed)} has no function_name, which the "
                             "cost needs to tell the stages apart; give a state or plan that holds the functions' "
                             "values")
    stage_by_name = {body["function_name"]: _stage_of(body["function_name"], name) for body in lambdas.values()}
    groups = _resources(document, "aws_cloudwatch_log_group").values()
    retention = {g.get("name"): g.get("retention_in_days") for g in groups}
    settings: dict[str, dict[str, Any]] = {}
    for body in lambdas.values():
        stage = stage_by_name[body["function_name"]]
        days = retention.get(f"/aws/lambda/{body['function_name']}")
        settings[stage] = {
            "stage": stage,
            "memory_mb": int(body.get("memory_size", 128)),
            "architecture": (body.get("architectures") or ["x86_64"])[0],
            "queue_fed": False,
            "log_retention_days": int(days) if days else None,
        }
    queues = _resources(document, "aws_sqs_queue")
    for mapping in _resources(document, "aws_lambda_event_source_mapping").values():
        stage = _function_by_reference(document, mapping.get("function_name"), stage_by_name)
        if stage is None:
            raise CostInputError(f"{name}: an event source mapping points at {mapping.get('function_name')!r}, "
                                 "which is none of the stack's functions")
        queue = _follow(document, mapping.get("event_source_arn"), "aws_sqs_queue") or {}
        settings[stage].update(
            queue_fed=True,
            batch_size=int(mapping.get("batch_size", 10)),
            batching_window_s=float(mapping.get("maximum_batching_window_in_seconds", 0)),
            long_poll_s=float(queue.get("receive_wait_time_seconds") or DEFAULT_LONG_POLL_S),
        )
    for config in _resources(document, "aws_lambda_provisioned_concurrency_config").values():
        stage = _function_by_reference(document, config.get("function_name"), stage_by_name)
        if stage is not None:
            settings[stage]["provisioned_concurrency"] = int(config.get("provisioned_concurrent_executions", 0))
    missing = [s for s in STAGES if s not in settings]
    if missing:
        raise CostInputError(f"{name}: no function for the stages {missing}")
    alarm_metrics = [_alarm_metrics(alarm) for alarm in _resources(document, "aws_cloudwatch_metric_alarm").values()]
    return PipelineConfig(
        name=name,
        functions={stage: FunctionConfig(**settings[stage]) for stage in STAGES},
        table=_table(document, name),
        standard_alarms=sum(count for count, period in alarm_metrics if period >= 60),
        high_resolution_alarms=sum(count for count, period in alarm_metrics if period < 60),
        dashboards=len(_resources(document, "aws_cloudwatch_dashboard")),
        kms_keys=len(_resources(document, "aws_kms_key")),
        queues=len(queues),
    )


def _alarm_metrics(alarm: dict[str, Any]) -> tuple[int, int]:
    """(alarm metrics billed, period in seconds) of one alarm: a metric math alarm is billed per metric it reads
    (https://aws.amazon.com/cloudwatch/pricing/, Alarms), at the resolution of its metrics."""
    queries = alarm.get("metric_query") or []
    # A nested block is an object in the synthesized configuration and a list of one in a plan's values.
    metrics = [m for q in queries if q.get("metric") for m in _blocks(q["metric"])]
    if not metrics:
        return 1, int(alarm.get("period", 60))
    return len(metrics), min(int(m.get("period", 60)) for m in metrics)


def _blocks(value: dict[str, Any] | list[dict[str, Any]]) -> list[dict[str, Any]]:
    return value if isinstance(value, list) else [value]


def _table(document: dict[str, Any], name: str) -> TableConfig:
    tables = list(_resources(document, "aws_dynamodb_table").values())
    if len(tables) != 1:
        raise CostInputError(f"{name}: expected one aws_dynamodb_table, found {len(tables)}")
    table = tables[0]
    mode = table.get("billing_mode", "PROVISIONED")
    pitr = bool(table.get("point_in_time_recovery", {}).get("enabled", False))
    if mode == "PAY_PER_REQUEST":
        return TableConfig(billing_mode=mode, point_in_time_recovery=pitr)
    scaling = _autoscaling(document)
    read, write = scaling.get("read"), scaling.get("write")
    return TableConfig(
        billing_mode=mode,
        read_capacity=int(table.get("read_capacity", 0)),
        write_capacity=int(table.get("write_capacity", 0)),
        read_bounds=read[0] if read else None,
        write_bounds=write[0] if write else None,
        read_target_utilization=read[1] if read else 70.0,
        write_target_utilization=write[1] if write else 70.0,
        point_in_time_recovery=pitr,
    )


def load_stacks(stacks_dir: Path, environments: list[str] | None = None) -> list[PipelineConfig]:
    """Every pipeline stack under ``stacks_dir`` (``tap-pipeline-<env>/cdk.tf.json``), or those named."""
    found = {d.name.removeprefix("tap-pipeline-"): d / "cdk.tf.json" for d in sorted(stacks_dir.glob("*"))
             if (d / "cdk.tf.json").is_file() and "aws_lambda_function" in (d / "cdk.tf.json").read_text()}
    if not found:
        raise CostInputError(f"{stacks_dir}: no synthesized pipeline stacks; run `make synth` first or pass --synth")
    wanted = environments or list(found)
    unknown = [e for e in wanted if e not in found]
    if unknown:
        raise CostInputError(f"{stacks_dir}: no stack for {unknown}; synthesized: {', '.join(found)}")
    return [read_stack(json.loads(found[e].read_text()), e) for e in wanted]
