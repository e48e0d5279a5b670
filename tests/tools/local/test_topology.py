"""Reading the pipeline's shape from ``terraform show -json`` (no emulator: a state document made here)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tools.local.topology import Topology, function_name_of

ACCOUNT = "arn:aws:{}:us-east-1:123456789012:{}"
ENDPOINT = "http://127.0.0.1:5000/123456789012/"


def queue(name: str, visibility: int = 180) -> dict[str, Any]:
    return {
        "address": f"aws_sqs_queue.{name}",
        "mode": "managed",
        "type": "aws_sqs_queue",
        "name": name,
        "values": {
            "name": name,
            "id": ENDPOINT + name,
            "url": ENDPOINT + name,
            "arn": ACCOUNT.format("sqs", name),
            "visibility_timeout_seconds": visibility,
            "redrive_policy": "",
        },
    }


def redrive(source: str, max_receives: int = 5) -> dict[str, Any]:
    policy = {"deadLetterTargetArn": ACCOUNT.format("sqs", f"{source}-dlq"), "maxReceiveCount": max_receives}
    return {
        "address": f"aws_sqs_queue_redrive_policy.{source}",
        "mode": "managed",
        "type": "aws_sqs_queue_redrive_policy",
        "name": source,
        "values": {"queue_url": ENDPOINT + source, "redrive_policy": json.dumps(policy)},
    }


def function(name: str, output: str | None, handler: str) -> dict[str, Any]:
    variables = {"ENVIRONMENT": "local"} | ({"OUTPUT_QUEUE_URL": ENDPOINT + output} if output else {})
    return {
        "address": f"aws_lambda_function.{name}",
        "mode": "managed",
        "type": "aws_lambda_function",
        "name": name,
        "values": {
            "function_name": name,
            "arn": ACCOUNT.format("lambda", f"function:{name}"),
            "handler": handler,
            "timeout": 30,
            "memory_size": 256,
            "environment": [{"variables": variables}],
        },
    }


def mapping(source: str, target: str, batch: int = 10) -> dict[str, Any]:
    return {
        "address": f"aws_lambda_event_source_mapping.{target}",
        "mode": "managed",
        "type": "aws_lambda_event_source_mapping",
        "name": target,
        "values": {
            "event_source_arn": ACCOUNT.format("sqs", source),
            "batch_size": batch,
            "maximum_batching_window_in_seconds": 2,
            "function_response_types": ["ReportBatchItemFailures"],
            "function_name": ACCOUNT.format("lambda", f"function:{target}:live"),
            "enabled": False,
        },
    }


def state() -> dict[str, Any]:
    resources = [
        # Listed out of flow order on purpose: the order must come from which queue each function feeds.
        mapping("process", "processor"),
        mapping("ingest", "validator", batch=25),
        mapping("enrich", "enricher"),
        function("processor", None, "handlers.processor.app.handler"),
        function("enricher", "process", "handlers.enricher.app.handler"),
        function("validator", "enrich", "handlers.validator.app.handler"),
        *(queue(name) for name in ("ingest", "enrich", "process", "rejects")),
        *(queue(f"{name}-dlq") for name in ("ingest", "enrich", "process")),
        redrive("ingest"),
        redrive("enrich"),
        redrive("process", max_receives=3),
        {
            "address": "aws_dynamodb_table.t",
            "mode": "managed",
            "type": "aws_dynamodb_table",
            "name": "t",
            "values": {"name": "data-table-local"},
        },
        {
            "address": "data.aws_iam_policy_document.x",
            "mode": "data",
            "type": "aws_iam_policy_document",
            "name": "x",
            "values": {},
        },
    ]
    return {
        "values": {
            "outputs": {"table_name": {"value": "data-table-local"}},
            "root_module": {"resources": resources},
        }
    }


def test_stages_in_flow_order_with_their_mapping_settings() -> None:
    topology = Topology.from_state(state())
    assert [s.function.name for s in topology.stages] == ["validator", "enricher", "processor"]
    validator = topology.stages[0]
    assert validator.function.handler == "handlers.validator.app.handler"
    assert validator.function.environment == {"ENVIRONMENT": "local", "OUTPUT_QUEUE_URL": ENDPOINT + "enrich"}
    assert (validator.batch_size, validator.batching_window, validator.report_batch_item_failures) == (
        25,
        2,
        True,
    )
    assert validator.invoked_arn.endswith(":function:validator:live")
    assert (validator.source.name, validator.source.visibility_timeout) == ("ingest", 180)
    assert topology.region == "us-east-1" and topology.tables == ("data-table-local",)
    assert topology.outputs == {"table_name": "data-table-local"}


def test_redrive_policies_dead_letter_and_reject_queues() -> None:
    topology = Topology.from_state(state())
    process = topology.queue("process")
    assert (process.dead_letter_arn, process.max_receive_count) == (ACCOUNT.format("sqs", "process-dlq"), 3)
    assert [(d.name, s.name) for d, s in topology.dead_letter_queues()] == [
        ("ingest-dlq", "ingest"),
        ("enrich-dlq", "enrich"),
        ("process-dlq", "process"),
    ]
    assert [q.name for q in topology.reject_queues()] == ["rejects"]
    assert topology.queue(ENDPOINT + "rejects") is topology.queue("rejects")


def test_a_state_without_mappings_is_refused() -> None:
    empty = {"values": {"root_module": {"resources": [queue("ingest")]}}}
    with pytest.raises(ValueError, match="no event source mapping"):
        Topology.from_state(empty)


@pytest.mark.parametrize(
    "given",
    [
        "validator-local",
        "arn:aws:lambda:us-east-1:1:function:validator-local",
        "arn:aws:lambda:us-east-1:1:function:validator-local:live",
        "validator-local:live",
    ],
)
def test_function_name_of_names_and_arns(given: str) -> None:
    assert function_name_of(given) == "validator-local"
