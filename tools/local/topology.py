"""What the deployed pipeline looks like, read from Terraform's state (``terraform show -json``).

The runner takes every function's handler, environment, timeout and event source mapping (source queue,
batch size, batching window) from here, never from a hand-written copy, so that running locally exercises
exactly what Terraform deployed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.local.shown_state import read_state
from tools.plans.terraform_json import value_resources


@dataclass(frozen=True)
class Queue:
    """One SQS queue and, if it has one, where its redrive policy sends messages."""

    name: str
    url: str
    arn: str
    visibility_timeout: int
    dead_letter_arn: str | None = None
    max_receive_count: int | None = None


@dataclass(frozen=True)
class Function:
    """One Lambda function, as far as running its code locally needs."""

    name: str
    arn: str
    handler: str
    timeout: int
    memory_size: int
    environment: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Stage:
    """A function fed by a queue through an event source mapping."""

    function: Function
    source: Queue
    batch_size: int
    batching_window: int
    report_batch_item_failures: bool
    #: What the mapping names as its target (the alias ARN here); the context's invoked_function_arn.
    invoked_arn: str


@dataclass(frozen=True)
class Topology:
    """The stages in data-flow order, every queue, the tables and the stack outputs."""

    stages: tuple[Stage, ...]
    queues: tuple[Queue, ...]
    tables: tuple[str, ...]
    outputs: Mapping[str, Any]
    region: str

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Topology:
        """Build from the JSON of ``terraform show -json``; ValueError if the stack has no stage."""
        resources = list(_resources(state.get("values", {}).get("root_module", {})))
        queues = _queues(resources)
        functions = {
            r["values"]["function_name"]: _function(r["values"])
            for r in resources
            if r["type"] == "aws_lambda_function"
        }
        by_arn = {queue.arn: queue for queue in queues}
        stages = []
        for r in resources:
            if r["type"] != "aws_lambda_event_source_mapping":
                continue
            values = r["values"]
            target = values["function_name"]
            function = functions.get(function_name_of(target))
            source = by_arn.get(values["event_source_arn"])
            if function is None or source is None:
                raise ValueError(
                    f"{r['address']} maps {values['event_source_arn']} to {target}, not in state"
                )
            stages.append(
                Stage(
                    function=function,
                    source=source,
                    batch_size=int(values.get("batch_size") or 10),
                    batching_window=int(values.get("maximum_batching_window_in_seconds") or 0),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in (values.get("function_response_types") or []),
                    invoked_arn=target if target.startswith("arn:") else function.arn,
                )
            )
        if not stages:
            raise ValueError("the state holds no event source mapping: is the stack applied?")
        tables = tuple(sorted(r["values"]["name"] for r in resources if r["type"] == "aws_dynamodb_table"))
        outputs = {
            name: output.get("value") for name, output in state.get("values", {}).get("outputs", {}).items()
        }
        region = stages[0].source.arn.split(":")[3]
        return cls(_in_flow_order(stages), tuple(queues), tables, outputs, region)

    def queue(self, name_or_url_or_arn: str) -> Queue:
        """The queue with this name, URL or ARN; KeyError if none."""
        for queue in self.queues:
            if name_or_url_or_arn in (queue.name, queue.url, queue.arn):
                return queue
        raise KeyError(f"no queue {name_or_url_or_arn!r}; known: {', '.join(q.name for q in self.queues)}")

    def dead_letter_queues(self) -> list[tuple[Queue, Queue]]:
        """(dead-letter queue, the queue that redrives into it), in data-flow order."""
        pairs = []
        for queue in self.queues_in_flow_order():
            if queue.dead_letter_arn:
                pairs.append((self.queue(queue.dead_letter_arn), queue))
        return pairs

    def queues_in_flow_order(self) -> list[Queue]:
        """Stage sources first (in flow order), then the rest by name."""
        sources = [stage.source for stage in self.stages]
        return sources + sorted((q for q in self.queues if q not in sources), key=lambda q: q.name)

    def reject_queues(self) -> list[Queue]:
        """Queues that are neither a stage's source nor a dead-letter queue: where records are rejected to."""
        sources = {stage.source.arn for stage in self.stages}
        dead_letters = {queue.dead_letter_arn for queue in self.queues if queue.dead_letter_arn}
        return sorted(
            (q for q in self.queues if q.arn not in sources and q.arn not in dead_letters),
            key=lambda q: q.name,
        )


def function_name_of(name_or_arn: str) -> str:
    """``validator-local`` from a name, a function ARN or a qualified (alias/version) ARN."""
    if not name_or_arn.startswith("arn:"):
        return name_or_arn.split(":")[0]
    return name_or_arn.split(":")[6]


def load(stack_dir: Path, extra_env: Mapping[str, str] | None = None, state_file: Path | None = None) -> Topology:
    """The topology of the stack applied in ``stack_dir`` (read again only when ``state_file`` changed)."""
    return Topology.from_state(read_state(stack_dir, extra_env, state_file))


def _resources(module: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    # cdktf puts everything in the root module; a root calling the generated module has it in a child module.
    return (resource for resource in value_resources(module) if resource.get("mode") == "managed")


def _queues(resources: list[dict[str, Any]]) -> list[Queue]:
    # The redrive policy may live on the queue or in its own aws_sqs_queue_redrive_policy resource.
    redrive: dict[str, str] = {}
    for r in resources:
        if r["type"] == "aws_sqs_queue_redrive_policy" and r["values"].get("redrive_policy"):
            redrive[r["values"]["queue_url"]] = r["values"]["redrive_policy"]
    queues = []
    for r in resources:
        if r["type"] != "aws_sqs_queue":
            continue
        values = r["values"]
        url = values.get("url") or values["id"]
        policy = json.loads(redrive.get(url) or values.get("redrive_policy") or "{}")
        queues.append(
            Queue(
                name=values["name"],
                url=url,
                arn=values["arn"],
                visibility_timeout=int(values.get("visibility_timeout_seconds") or 30),
                dead_letter_arn=policy.get("deadLetterTargetArn"),
                max_receive_count=int(policy["maxReceiveCount"]) if "maxReceiveCount" in policy else None,
            )
        )
    return queues


def _function(values: Mapping[str, Any]) -> Function:
    environment = values.get("environment") or []
    variables = (environment[0].get("variables") if environment else None) or {}
    return Function(
        name=values["function_name"],
        arn=values["arn"],
        handler=values["handler"],
        timeout=int(values.get("timeout") or 3),
        memory_size=int(values.get("memory_size") or 128),
        environment={str(k): str(v) for k, v in variables.items()},
    )


def _in_flow_order(stages: list[Stage]) -> tuple[Stage, ...]:
    """Order stages so that a stage comes before the one whose queue its environment names (its output)."""
    by_url = {stage.source.url: stage for stage in stages}
    feeds: dict[str, str] = {}  # function name -> the function it feeds
    for stage in stages:
        for value in stage.function.environment.values():
            if value in by_url and by_url[value] is not stage:
                feeds[stage.function.name] = by_url[value].function.name
    fed = set(feeds.values())
    ordered: list[Stage] = []
    heads = sorted((s for s in stages if s.function.name not in fed), key=lambda s: s.function.name)
    names = {stage.function.name: stage for stage in stages}
    for head in heads:
        current: Stage | None = head
        while current is not None and current not in ordered:
            ordered.append(current)
            nxt = feeds.get(current.function.name)
            current = names.get(nxt) if nxt else None
    ordered += [stage for stage in stages if stage not in ordered]  # a cycle: keep the rest as found
    return tuple(ordered)
