"""The cost model against hand-computed bills, the usage file's validation, the draft's throughput limit."""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import subprocess
from pathlib import Path

import pytest

from tools.cost.config import read_stack
from tools.cost.draft import draft_config
from tools.cost.errors import CostInputError
from tools.cost.model import estimate
from tools.cost.prices import load_prices
from tools.cost.usage import DEFAULT_USAGE, parse_usage

ROOT = Path(__file__).resolve().parents[3]
MONTH_S = 730 * 3600  # 2,628,000 s
PRICES = load_prices()
USAGE_DOC = {
    "events_per_month": [1e6],
    "months_in_operation": 1,
    "average_record_bytes": 900,
    "enrichment_bytes": 100,
    "malformed_share": 0.0,
    "producer_messages_per_request": 10,
    "pollers_per_queue": 5,
    "log_bytes_per_invocation": {"validator": 740, "enricher": 740, "processor": 740},
    "platform_log_bytes_per_invocation": 260,
    "duration_ms": {s: {"1": 5.0, "10": 36.8} for s in ("validator", "enricher", "processor")},
}


def _stack(window: int = 10, billing: str = "PAY_PER_REQUEST", provisioned: int = 0) -> dict:
    """A pipeline stack cut down to what the cost model reads."""
    resources: dict = {"aws_lambda_function": {}, "aws_lambda_alias": {}, "aws_lambda_event_source_mapping": {},
                       "aws_sqs_queue": {}, "aws_cloudwatch_log_group": {}}
    for stage in ("validator", "enricher", "processor"):
        resources["aws_lambda_function"][f"f_{stage}"] = {
            "function_name": f"{stage}-t", "memory_size": 128, "architectures": ["arm64"]}
        function = f"${{aws_lambda_function.f_{stage}.function_name}}"
        resources["aws_lambda_alias"][f"a_{stage}"] = {"function_name": function}
        resources["aws_sqs_queue"][f"q_{stage}"] = {"name": f"q-{stage}", "receive_wait_time_seconds": 20}
        resources["aws_lambda_event_source_mapping"][f"m_{stage}"] = {
            "function_name": f"${{aws_lambda_alias.a_{stage}.arn}}",
            "event_source_arn": f"${{aws_sqs_queue.q_{stage}.arn}}",
            "batch_size": 10, "maximum_batching_window_in_seconds": window}
        resources["aws_cloudwatch_log_group"][f"g_{stage}"] = {"name": f"/aws/lambda/{stage}-t",
                                                               "retention_in_days": 30}
    resources["aws_dynamodb_table"] = {"t": {"billing_mode": billing, "write_capacity": 10, "read_capacity": 5}}
    if billing == "PROVISIONED":
        resources["aws_appautoscaling_target"] = {
            "w": {"service_namespace": "dynamodb", "scalable_dimension": "dynamodb:table:WriteCapacityUnits",
                  "min_capacity": 10, "max_capacity": 500},
            "r": {"service_namespace": "dynamodb", "scalable_dimension": "dynamodb:table:ReadCapacityUnits",
                  "min_capacity": 5, "max_capacity": 200}}
        resources["aws_appautoscaling_policy"] = {"wp": {
            "resource_id": "${aws_appautoscaling_target.w.resource_id}",
            "target_tracking_scaling_policy_configuration": {"target_value": 70}}}
    if provisioned:
        resources["aws_lambda_provisioned_concurrency_config"] = {"pc": {
            "function_name": "${aws_lambda_function.f_processor.function_name}",
            "provisioned_concurrent_executions": provisioned}}
    resources["aws_cloudwatch_metric_alarm"] = {f"al{i}": {"period": 60} for i in range(4)}
    resources["aws_cloudwatch_dashboard"] = {"d": {}}
    return {"resource": resources}


# 5 events a second: 13,140,000 a month. With a 10 s window and 5 pollers each batch holds 5 x 10 / 5 = 10.
EVENTS = 5 * MONTH_S
INVOCATIONS = EVENTS / 10  # 1,314,000 per stage


def test_full_batches_lambda_requests_and_duration() -> None:
    bill = estimate(read_stack(_stack(), "t"), parse_usage(USAGE_DOC), PRICES, EVENTS)
    assert bill.records_per_invocation == {"validator": 10, "enricher": 10, "processor": 10}
    # requests: 3 stages x 1,314,000 x $0.20 / 1e6 = $0.7884
    assert bill.usd("Lambda", "requests") == pytest.approx(3 * 1_314_000 * 0.20 / 1e6)
    # duration: ceil(36.8 ms) = 37 ms; 3 x 1,314,000 x 0.037 s x 0.125 GB x $0.0000133334
    assert bill.usd("Lambda", "duration") == pytest.approx(3 * 1_314_000 * 0.037 * 0.125 * 0.0000133334)


def test_no_batching_window_means_one_record_per_invocation() -> None:
    bill = estimate(read_stack(_stack(window=0), "t"), parse_usage(USAGE_DOC), PRICES, EVENTS)
    assert bill.records_per_invocation["validator"] == 1
    # duration at 1 record: ceil(5.0) = 5 ms; 13,140,000 invocations per stage
    assert bill.usd("Lambda", "duration") == pytest.approx(3 * EVENTS * 0.005 * 0.125 * 0.0000133334)


def test_sqs_sends_receives_deletes_per_stage() -> None:
    bill = estimate(read_stack(_stack(), "t"), parse_usage(USAGE_DOC), PRICES, EVENTS)
    # into validator: producer batches of 10 -> 1,314,000 sends; 1,314,000 receives (10 x 900 B < 64 KB);
    # 1,314,000 deletes; idle floor 5 pollers x 2,628,000 s / 20 s = 657,000 receives is lower.
    assert bill.usd("SQS", "into validator") == pytest.approx(3 * 1_314_000 * 0.40 / 1e6)
    # into processor: the enricher forwards 10 per invocation in one SendMessageBatch: 1,314,000 calls.
    assert bill.usd("SQS", "into processor") == pytest.approx(3 * 1_314_000 * 0.40 / 1e6)


def test_idle_pollers_floor_receives() -> None:
    bill = estimate(read_stack(_stack(), "t"), parse_usage(USAGE_DOC), PRICES, 100_000)
    # 100,000 events, batches of 1 (rate x 10 s / 5 < 1): sends 10,000 (batches of 10 from the producer),
    # receives max(100,000, 657,000) = 657,000, deletes 100,000.
    assert bill.usd("SQS", "into validator") == pytest.approx((10_000 + 657_000 + 100_000) * 0.40 / 1e6)


def test_dynamodb_on_demand_and_provisioned() -> None:
    usage = parse_usage(USAGE_DOC)
    on_demand = estimate(read_stack(_stack(), "t"), usage, PRICES, EVENTS)
    # 900 + 100 = 1000 B -> 1 WRU each: 13,140,000 x $0.625 / 1e6
    assert on_demand.usd("DynamoDB", "writes") == pytest.approx(EVENTS * 0.625 / 1e6)
    # storage, month 1: half a month of items of 1000 + 100 B on average
    assert on_demand.usd("DynamoDB", "storage") == pytest.approx(EVENTS * 1100 * 0.5 / 2**30 * 0.25)
    provisioned = estimate(read_stack(_stack(billing="PROVISIONED"), "t"), usage, PRICES, EVENTS)
    # 5 WRU/s consumed at a 70 % target -> ceil(7.14) = 8, below the minimum of 10: 10 WCU x 730 h x $0.00065
    assert provisioned.usd("DynamoDB", "write capacity") == pytest.approx(10 * 730 * 0.00065)
    busy = estimate(read_stack(_stack(billing="PROVISIONED"), "t"), usage, PRICES, 4 * EVENTS)
    # 20 WRU/s / 0.7 -> ceil(28.57) = 29 WCU
    assert busy.usd("DynamoDB", "write capacity") == pytest.approx(29 * 730 * 0.00065)
    assert provisioned.usd("DynamoDB", "read capacity") == pytest.approx(5 * 730 * 0.00013)


def test_provisioned_concurrency() -> None:
    bill = estimate(read_stack(_stack(provisioned=2), "t"), parse_usage(USAGE_DOC), PRICES, EVENTS)
    # 2 instances x 0.125 GB x 2,628,000 s x $0.0000033334
    assert bill.usd("Lambda", "provisioned concurrency") == pytest.approx(2 * 0.125 * MONTH_S * 0.0000033334)
    # the processor's 1,314,000 x 0.037 s = 48,618 s fit in the warm instances: provisioned duration price
    assert bill.usd("Lambda", "duration on provisioned") == pytest.approx(48_618 * 0.125 * 0.0000086667)


def test_logs_alarms_dashboards() -> None:
    bill = estimate(read_stack(_stack(), "t"), parse_usage(USAGE_DOC), PRICES, EVENTS)
    ingested_gb = 3 * 1_314_000 * (740 + 260) / 2**30
    assert bill.usd("CloudWatch", "logs ingestion") == pytest.approx(ingested_gb * 0.50)
    # month 1: half a month kept (30-day retention is longer)
    assert bill.usd("CloudWatch", "logs storage") == pytest.approx(ingested_gb * 0.5 * 0.03)
    assert bill.usd("CloudWatch", "alarms") == pytest.approx(4 * 0.10)
    assert bill.usd("CloudWatch", "dashboards") == pytest.approx(3.00)


def test_a_metric_math_alarm_is_billed_per_metric_it_reads() -> None:
    """CloudWatch bills an alarm on a math expression per metric in it (the arrivals alarm reads two)."""
    document = _stack()
    math = {"metric_query": [
        {"id": "visible", "metric": {"metric_name": "V", "period": 60}, "return_data": False},
        {"id": "in_flight", "metric": {"metric_name": "F", "period": 60}, "return_data": False},
        {"id": "alarmed", "expression": "DIFF(visible + FILL(in_flight, 0))", "return_data": True}]}
    fast_math = {"metric_query": [{"id": "m", "metric": {"metric_name": "V", "period": 10}},
                                  {"id": "e", "expression": "m * 2"}]}
    document["resource"]["aws_cloudwatch_metric_alarm"].update({"math": math, "fast": fast_math})
    bill = estimate(read_stack(document, "t"), parse_usage(USAGE_DOC), PRICES, EVENTS)
    assert bill.usd("CloudWatch", "alarms (standard)") == pytest.approx((4 + 2) * 0.10)
    assert bill.usd("CloudWatch", "alarms (high resolution)") == pytest.approx(1 * 0.30)


def test_a_math_alarm_from_a_plans_values_is_billed_as_from_the_configuration() -> None:
    """A plan's values hold each nested block as a list of one: the same alarm must cost the same."""
    document = _stack()
    math = {"metric_query": [
        {"id": "visible", "metric": [{"metric_name": "V", "period": 60}], "return_data": False},
        {"id": "in_flight", "metric": [{"metric_name": "F", "period": 10}], "return_data": False},
        {"id": "alarmed", "expression": "DIFF(visible + FILL(in_flight, 0))", "metric": [], "return_data": True}]}
    document["resource"]["aws_cloudwatch_metric_alarm"].update({"math": math})
    bill = estimate(read_stack(document, "t"), parse_usage(USAGE_DOC), PRICES, EVENTS)
    assert bill.usd("CloudWatch", "alarms (standard)") == pytest.approx(4 * 0.10)
    assert bill.usd("CloudWatch", "alarms (high resolution)") == pytest.approx(2 * 0.30)


def test_log_retention_caps_storage_and_the_draft_keeps_everything() -> None:
    usage = parse_usage({**USAGE_DOC, "months_in_operation": 12})
    capped = estimate(read_stack(_stack(), "t"), usage, PRICES, EVENTS)
    ingested_gb = 3 * 1_314_000 * 1000 / 2**30
    assert capped.usd("CloudWatch", "logs storage") == pytest.approx(ingested_gb * 30 / (365 / 12) * 0.03)
    draft = estimate(draft_config(), usage, PRICES, EVENTS)
    draft_gb = 3 * EVENTS * 260 / 2**30  # one invocation per record, only Lambda's own lines
    assert draft.usd("CloudWatch", "logs storage") == pytest.approx(draft_gb * 11.5 * 0.03)
    # draft Lambda: x86_64, 3008 MB, ceil(5.0 ms) per record
    assert draft.usd("Lambda", "duration") == pytest.approx(3 * EVENTS * 0.005 * 3008 / 1024 * 0.0000166667)


def test_draft_throughput_flag_on_both_sides_of_5_wcu() -> None:
    usage = parse_usage(USAGE_DOC)  # 1000-byte items: 1 WRU each; 5 WCU = 13,140,000 writes a month
    assert estimate(draft_config(), usage, PRICES, 13_140_000).flags == []
    flags = estimate(draft_config(), usage, PRICES, 13_200_000).flags
    assert len(flags) == 1 and "cannot keep up" in flags[0] and "records are lost" in flags[0]


@pytest.mark.parametrize(("change", "message"), [
    ({"average_record_bytes": -1}, "average_record_bytes=-1 is out of range"),
    ({"malformed_share": 1}, "malformed_share=1 is out of range"),
    ({"months_in_operation": True}, "months_in_operation must be a number"),
    ({"events_per_month": []}, "events_per_month must be a non-empty"),
    ({"surprise": 1}, "unknown fields ['surprise']"),
    ({"log_bytes_per_invocation": {"validator": 1}}, "missing stages ['enricher', 'processor']"),
    ({"duration_ms": {s: {"10": 3} for s in ("validator", "enricher", "processor")}}, "two or more batch sizes"),
])
def test_usage_errors_name_the_field(change: dict, message: str) -> None:
    with pytest.raises(CostInputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_usage({**copy.deepcopy(USAGE_DOC), **change})


def test_usage_missing_field() -> None:
    document = copy.deepcopy(USAGE_DOC)
    del document["pollers_per_queue"]
    with pytest.raises(CostInputError, match="missing fields: pollers_per_queue"):
        parse_usage(document)


def test_default_usage_file_is_valid() -> None:
    assert parse_usage(json.loads(DEFAULT_USAGE.read_text())).events_per_month == (1e6, 1e7, 1e8)


def test_prices_are_dated_within_a_year_of_the_lock_file() -> None:
    """Pipfile.lock records no dates: its last commit is when its packages were last resolved."""
    stamp = subprocess.run(["git", "log", "-1", "--format=%cs", "--", "Pipfile.lock"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert stamp, "Pipfile.lock has no commit: commit it so the price table's age can be checked"
    locked = dt.date.fromisoformat(stamp)
    assert PRICES.checked >= locked - dt.timedelta(days=365), (
        f"prices checked {PRICES.checked}, more than a year before Pipfile.lock ({locked}): re-check them")
    assert all(source.startswith("https://aws.amazon.com/") for source in PRICES.sources.values())


def test_report_on_the_synthesized_stacks(stacks) -> None:
    prod = read_stack(stacks["tap-pipeline-prod"].document, "prod")
    usage = parse_usage(json.loads(DEFAULT_USAGE.read_text()))
    assert prod.functions["processor"].provisioned_concurrency == 2
    assert prod.table.write_bounds == (10, 500)
    mine, draft = estimate(prod, usage, PRICES, 1e7), estimate(draft_config(), usage, PRICES, 1e7)
    assert draft.flags and not mine.flags
    assert math.isfinite(mine.total) and mine.total > 0


def _prod_and_draft_at_10m(stacks) -> tuple:
    prod = read_stack(stacks["tap-pipeline-prod"].document, "prod")
    usage = parse_usage(json.loads(DEFAULT_USAGE.read_text()))
    return estimate(prod, usage, PRICES, 1e7), estimate(draft_config(), usage, PRICES, 1e7)


def test_prod_costs_under_3_50_dollars_per_million_events_at_10m_a_month(stacks) -> None:
    mine, _ = _prod_and_draft_at_10m(stacks)
    assert mine.per_million_events < 3.50


@pytest.mark.xfail(strict=True, reason="the draft has no queues, DLQs, alarms, dashboard, PITR or warm instances, "
                   "whose fixed and per-request costs prod pays to lose nothing (docs/cost.md); strict, so that it "
                   "reports the day it holds")
def test_goal_prod_five_times_cheaper_than_the_draft_at_10m_a_month(stacks) -> None:
    mine, draft = _prod_and_draft_at_10m(stacks)
    assert draft.total >= 5 * mine.total


def test_batch_fill_is_shared_among_pollers() -> None:
    usage = parse_usage(USAGE_DOC)
    # 5 records/s x 4 s window / 5 pollers = 4 records per invocation; 20 s -> 20, capped at the batch size 10
    assert estimate(read_stack(_stack(window=4), "t"), usage, PRICES, EVENTS).records_per_invocation[
        "validator"] == pytest.approx(4)
    assert estimate(read_stack(_stack(window=20), "t"), usage, PRICES, EVENTS).records_per_invocation[
        "validator"] == 10
