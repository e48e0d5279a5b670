"""The monthly bill of one configuration at one traffic level, line by line.

Conventions (AWS's own): a month is 730 hours; a GB is 2**30 bytes; Lambda bills each invocation's duration
rounded up to the next millisecond (applied here to the average invocation); SQS bills every 64 KB chunk
of a request's payload as one request; DynamoDB bills a write of up to 1 KB as one write unit and adds
100 bytes of overhead to each item's stored size. No free tier is applied. Traffic is taken as flat over
the month; retries and redeliveries are left out (they are the exception, not the load).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from tools.cost.config import FunctionConfig, PipelineConfig, TableConfig
from tools.cost.prices import Prices
from tools.cost.usage import STAGES, Usage

HOURS_PER_MONTH = 730
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
DAYS_PER_MONTH = 365 / 12
GB = 2**30
SQS_CHUNK_BYTES = 64 * 1024
SQS_MAX_BATCH = 10
WRITE_UNIT_BYTES = 1024
DYNAMODB_ITEM_OVERHEAD_BYTES = 100


@dataclass(frozen=True)
class Line:
    """One line of the bill: what, how much of it, and what it costs a month."""

    service: str
    item: str
    quantity: float
    unit: str
    usd: float


@dataclass
class Estimate:
    """The bill of one configuration at one number of events a month."""

    config: str
    events: float
    lines: list[Line] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    records_per_invocation: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(line.usd for line in self.lines)

    @property
    def per_million_events(self) -> float:
        return self.total / (self.events / 1e6)

    def dominant(self) -> Line:
        return max(self.lines, key=lambda line: line.usd)

    def usd(self, service: str, item: str) -> float:
        """The cost of the lines of ``service`` whose item starts with ``item``."""
        return sum(line.usd for line in self.lines if line.service == service and line.item.startswith(item))


def sqs_chunks(payload_bytes: float) -> int:
    """Requests SQS bills for one call carrying ``payload_bytes`` (every started 64 KB chunk)."""
    return max(1, math.ceil(payload_bytes / SQS_CHUNK_BYTES))


def records_per_invocation(function: FunctionConfig, records: float, pollers: float) -> float:
    """Average batch a stage's function receives.

    Without a queue the function gets one record per call. From SQS, with no batching window a poller
    invokes as soon as a receive returns, which at a steady rate returns about one message; with a window
    of W seconds each of the pollers gathers rate x W / pollers records, up to the batch size.
    """
    if not function.queue_fed:
        return 1.0
    rate = records / SECONDS_PER_MONTH
    return min(float(function.batch_size), max(1.0, rate * function.batching_window_s / pollers))


def stage_records(events: float, usage: Usage) -> dict[str, float]:
    """Records each stage receives: all events for the validator, the valid ones after it."""
    valid = events * (1 - usage.malformed_share)
    return {"validator": events, "enricher": valid, "processor": valid}


def estimate(config: PipelineConfig, usage: Usage, prices: Prices, events: float) -> Estimate:
    """The month's bill of ``config`` at ``events`` events a month."""
    result = Estimate(config=config.name, events=events)
    records = stage_records(events, usage)
    fills = {s: records_per_invocation(config.functions[s], records[s], usage.pollers_per_queue) for s in STAGES}
    invocations = {s: records[s] / fills[s] for s in STAGES}
    result.records_per_invocation = fills
    _lambda(result, config, usage, prices, fills, invocations)
    _sqs(result, config, usage, prices, records, fills, invocations)
    _dynamodb(result, config.table, usage, prices, records["processor"], not config.functions["processor"].queue_fed)
    _logs(result, config, usage, prices, invocations)
    _fixed(result, config, prices)
    return result


def _lambda(result: Estimate, config: PipelineConfig, usage: Usage, prices: Prices,
            fills: dict[str, float], invocations: dict[str, float]) -> None:
    total_invocations = sum(invocations.values())
    result.lines.append(Line("Lambda", "requests", total_invocations, "requests",
                             total_invocations / 1e6 * prices["lambda_requests_per_million"]))
    on_demand: dict[str, float] = {}
    provisioned_gb_s = provisioned_duration_gb_s = 0.0
    provisioned_usd = provisioned_duration_usd = 0.0
    for stage in STAGES:
        function = config.functions[stage]
        gb = function.memory_mb / 1024
        busy_s = invocations[stage] * math.ceil(usage.duration_for(stage, fills[stage])) / 1000
        warm_s = function.provisioned_concurrency * SECONDS_PER_MONTH
        on_warm_s = min(busy_s, warm_s)
        arch = function.architecture
        on_demand[arch] = on_demand.get(arch, 0.0) + (busy_s - on_warm_s) * gb
        provisioned_gb_s += warm_s * gb
        provisioned_usd += warm_s * gb * prices[f"lambda_provisioned_gb_second_{arch}"]
        provisioned_duration_gb_s += on_warm_s * gb
        provisioned_duration_usd += on_warm_s * gb * prices[f"lambda_provisioned_duration_gb_second_{arch}"]
    for arch, gb_s in sorted(on_demand.items()):
        usd = gb_s * prices[f"lambda_gb_second_{arch}"]
        result.lines.append(Line("Lambda", f"duration ({arch})", gb_s, "GB-s", usd))
    if provisioned_gb_s:
        result.lines.append(Line("Lambda", "provisioned concurrency", provisioned_gb_s, "GB-s", provisioned_usd))
        result.lines.append(Line("Lambda", "duration on provisioned instances", provisioned_duration_gb_s, "GB-s",
                                 provisioned_duration_usd))


def _sqs(result: Estimate, config: PipelineConfig, usage: Usage, prices: Prices, records: dict[str, float],
         fills: dict[str, float], invocations: dict[str, float]) -> None:
    price = prices["sqs_standard_requests_per_million"] / 1e6
    message_bytes = {
        "validator": usage.average_record_bytes,
        "enricher": usage.average_record_bytes,
        "processor": usage.average_record_bytes + usage.enrichment_bytes,
    }
    previous = {"enricher": "validator", "processor": "enricher"}
    for stage in STAGES:
        function = config.functions[stage]
        if not function.queue_fed:
            continue
        size = message_bytes[stage]
        if stage == "validator":
            per_call = usage.producer_messages_per_request
            sends = records[stage] / per_call * sqs_chunks(per_call * size)
        else:
            # The stage before forwards its valid records with SendMessageBatch, 10 entries a call.
            forwarded_per_invocation = records[stage] / invocations[previous[stage]]
            if forwarded_per_invocation >= 1:
                calls = invocations[previous[stage]] * math.ceil(forwarded_per_invocation / SQS_MAX_BATCH)
                sends = calls * sqs_chunks(min(forwarded_per_invocation, SQS_MAX_BATCH) * size)
            else:
                sends = records[stage] * sqs_chunks(size)
        busy_receives = invocations[stage] * sqs_chunks(fills[stage] * size)
        idle_receives = usage.pollers_per_queue * SECONDS_PER_MONTH / function.long_poll_s
        receives = max(busy_receives, idle_receives)
        deletes = invocations[stage]
        total = sends + receives + deletes
        result.lines.append(Line("SQS", f"into {stage}: {sends / 1e6:.2f}M send, {receives / 1e6:.2f}M receive, "
                                        f"{deletes / 1e6:.2f}M delete", total, "requests", total * price))
    validator = config.functions["validator"]
    if validator.queue_fed and usage.malformed_share:
        # One SendMessageBatch to the rejects queue per validator batch holding at least one malformed record.
        share = 1 - (1 - usage.malformed_share) ** fills["validator"]
        sends = invocations["validator"] * share * sqs_chunks(fills["validator"] * usage.malformed_share
                                                             * usage.average_record_bytes)
        result.lines.append(Line("SQS", "rejects: send", sends, "requests", sends * price))


def _capacity(consumed: float, fixed: int, bounds: tuple[int, int] | None, target: float) -> tuple[float, bool]:
    """Average provisioned capacity units, and whether the load exceeds what can ever be provisioned."""
    if bounds is None:
        return float(fixed), consumed > fixed
    low, high = bounds
    return float(min(high, max(low, math.ceil(consumed / (target / 100))))), consumed > high


def _dynamodb(result: Estimate, table: TableConfig, usage: Usage, prices: Prices, stored_records: float,
              lossy: bool) -> None:
    item_bytes = usage.average_record_bytes + usage.enrichment_bytes
    write_units = stored_records * math.ceil(item_bytes / WRITE_UNIT_BYTES)
    if table.billing_mode == "PAY_PER_REQUEST":
        result.lines.append(Line("DynamoDB", "writes (on demand)", write_units, "WRU",
                                 write_units / 1e6 * prices["dynamodb_on_demand_write_per_million"]))
    else:
        consumed = write_units / SECONDS_PER_MONTH
        wcu, over = _capacity(consumed, table.write_capacity, table.write_bounds, table.write_target_utilization)
        rcu, _ = _capacity(0.0, table.read_capacity, table.read_bounds, table.read_target_utilization)
        result.lines.append(Line("DynamoDB", "write capacity (provisioned)", wcu, "WCU",
                                 wcu * HOURS_PER_MONTH * prices["dynamodb_wcu_hour"]))
        result.lines.append(Line("DynamoDB", "read capacity (provisioned)", rcu, "RCU",
                                 rcu * HOURS_PER_MONTH * prices["dynamodb_rcu_hour"]))
        if over:
            ceiling = (table.write_bounds[1] if table.write_bounds else table.write_capacity)
            most = ceiling * SECONDS_PER_MONTH / math.ceil(item_bytes / WRITE_UNIT_BYTES)
            result.flags.append(
                f"{result.config}: cannot keep up: {stored_records / 1e6:.1f}M writes a month need {consumed:.1f} WCU "
                f"on average, the table has at most {ceiling} ({most / 1e6:.1f}M writes of "
                f"{item_bytes / 1024:.2f} KB a month at best); past that writes throttle"
                + (" and, with no queue or dead-letter queue to hold them, records are lost" if lossy
                   else ", and records wait in the queue, then its dead-letter queue"))
    stored_gb = stored_records * (item_bytes + DYNAMODB_ITEM_OVERHEAD_BYTES) * (usage.months_in_operation - 0.5) / GB
    result.lines.append(Line("DynamoDB", f"storage (month {usage.months_in_operation:g})", stored_gb, "GB-month",
                             stored_gb * prices["dynamodb_storage_gb_month"]))
    if table.point_in_time_recovery:
        result.lines.append(Line("DynamoDB", "point-in-time recovery", stored_gb, "GB-month",
                                 stored_gb * prices["dynamodb_pitr_gb_month"]))


def _logs(result: Estimate, config: PipelineConfig, usage: Usage, prices: Prices,
          invocations: dict[str, float]) -> None:
    ingested = stored = 0.0
    for stage in STAGES:
        handler_bytes = usage.log_bytes_per_invocation[stage] if config.handler_logging else 0.0
        monthly_gb = invocations[stage] * (handler_bytes + usage.platform_log_bytes_per_invocation) / GB
        retention = config.functions[stage].log_retention_days
        kept_months = usage.months_in_operation - 0.5
        if retention is not None:
            kept_months = min(kept_months, retention / DAYS_PER_MONTH)
        ingested += monthly_gb
        stored += monthly_gb * kept_months
    result.lines.append(Line("CloudWatch", "logs ingestion", ingested, "GB", ingested * prices["logs_ingestion_gb"]))
    result.lines.append(Line("CloudWatch", f"logs storage (month {usage.months_in_operation:g})", stored, "GB-month",
                             stored * prices["logs_storage_gb_month"]))


def _fixed(result: Estimate, config: PipelineConfig, prices: Prices) -> None:
    if config.standard_alarms:
        result.lines.append(Line("CloudWatch", "alarms (standard)", config.standard_alarms, "alarms",
                                 config.standard_alarms * prices["alarm_standard_month"]))
    if config.high_resolution_alarms:
        result.lines.append(Line("CloudWatch", "alarms (high resolution)", config.high_resolution_alarms, "alarms",
                                 config.high_resolution_alarms * prices["alarm_high_resolution_month"]))
    if config.dashboards:
        result.lines.append(Line("CloudWatch", "dashboards", config.dashboards, "dashboards",
                                 config.dashboards * prices["dashboard_month"]))
    if config.kms_keys:
        result.lines.append(Line("KMS", "customer managed keys", config.kms_keys, "keys",
                                 config.kms_keys * prices["kms_key_month"]))
