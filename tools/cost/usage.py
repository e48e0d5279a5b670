"""The usage file: how much traffic, how big, how long each stage runs; checked field by field."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.cost.errors import CostInputError

DEFAULT_USAGE = Path(__file__).with_name("usage.json")
STAGES = ("validator", "enricher", "processor")
FIELDS = {
    "events_per_month": "list of positive numbers, e.g. [1000000, 10000000, 100000000]",
    "months_in_operation": "number >= 1: the bill is for this month after launch (storage accumulates)",
    "average_record_bytes": "number > 0: a producer's message body",
    "enrichment_bytes": "number >= 0: what the enricher adds to each stored item",
    "malformed_share": "number in [0, 1): share of events the validator rejects",
    "producer_messages_per_request": "number in [1, 10]: messages per SendMessage(Batch) call of producers",
    "pollers_per_queue": "number >= 1: Lambda's SQS pollers per event source mapping",
    "log_bytes_per_invocation": "object stage -> bytes the handler logs per invocation",
    "platform_log_bytes_per_invocation": "number >= 0: Lambda's START/END/REPORT lines per invocation",
    "duration_ms": 'object stage -> {"batch size": ms}, at least two batch sizes, e.g. {"1": 4.1, "10": 36.8}',
}
NOTE_FIELDS = ("_comment", "_sources")


@dataclass(frozen=True)
class Usage:
    """Traffic and measured behaviour the bill depends on, beyond what the stacks configure."""

    events_per_month: tuple[float, ...]
    months_in_operation: float
    average_record_bytes: float
    enrichment_bytes: float
    malformed_share: float
    producer_messages_per_request: float
    pollers_per_queue: float
    log_bytes_per_invocation: Mapping[str, float]
    platform_log_bytes_per_invocation: float
    duration_ms: Mapping[str, Mapping[int, float]]

    def duration_for(self, stage: str, records: float) -> float:
        """Milliseconds of one invocation on ``records`` records: the line through the smallest and
        largest measured batch (a fixed part per invocation plus a part per record), never below 0."""
        points = sorted(self.duration_ms[stage].items())
        (n1, ms1), (n2, ms2) = points[0], points[-1]
        per_record = (ms2 - ms1) / (n2 - n1)
        return max(0.0, ms1 + per_record * (records - n1))


def _where(path: Path | str, name: str) -> str:
    return f"{path}: {name}"


def _number(path: Path | str, name: str, value: Any, low: float, high: float = math.inf,
            low_open: bool = False, high_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise CostInputError(f"{_where(path, name)} must be a number, not {value!r}")
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high:
        left, right = ("(" if low_open else "["), (")" if high_open else "]")
        raise CostInputError(f"{_where(path, name)}={value!r} is out of range: allowed {left}{low:g}, {high:g}{right}")
    return float(value)


def _stages(path: Path | str, name: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CostInputError(f"{_where(path, name)} must be an object with the stages {', '.join(STAGES)}")
    missing = [s for s in STAGES if s not in value]
    unknown = sorted(set(value) - set(STAGES))
    if missing or unknown:
        raise CostInputError(f"{_where(path, name)}: missing stages {missing}, unknown stages {unknown}; "
                             f"give exactly {', '.join(STAGES)}")
    return value


def _durations(path: Path | str, value: Any) -> dict[str, dict[int, float]]:
    result: dict[str, dict[int, float]] = {}
    for stage, by_batch in _stages(path, "duration_ms", value).items():
        name = f"duration_ms.{stage}"
        if not isinstance(by_batch, dict) or len(by_batch) < 2:
            raise CostInputError(f"{_where(path, name)} must give the measured ms at two or more batch sizes, "
                                 f'e.g. {{"1": 4.1, "10": 36.8}} (make memory, --batch-size 1 and 10)')
        points: dict[int, float] = {}
        for batch, ms in by_batch.items():
            if not str(batch).isdigit() or int(batch) < 1:
                raise CostInputError(f"{_where(path, name)}: key {batch!r} must be a batch size, a whole number >= 1")
            points[int(batch)] = _number(path, f"{name}.{batch}", ms, 0, low_open=True)
        result[stage] = points
    return result


def parse_usage(document: Any, path: Path | str = "usage") -> Usage:
    """Check every field of a usage document; the error names the field, the value and what is allowed."""
    if not isinstance(document, dict):
        raise CostInputError(f"{path}: the usage file must be a JSON object with the fields {', '.join(FIELDS)}")
    unknown = sorted(set(document) - set(FIELDS) - set(NOTE_FIELDS))
    if unknown:
        raise CostInputError(f"{path}: unknown fields {unknown}; allowed: {', '.join(FIELDS)}")
    missing = [name for name in FIELDS if name not in document]
    if missing:
        raise CostInputError(f"{path}: missing fields: "
                             + "; ".join(f"{name} ({FIELDS[name]})" for name in missing))
    events = document["events_per_month"]
    if not isinstance(events, list) or not events:
        raise CostInputError(f"{_where(path, 'events_per_month')} must be a non-empty {FIELDS['events_per_month']}")
    logs = _stages(path, "log_bytes_per_invocation", document["log_bytes_per_invocation"])
    return Usage(
        events_per_month=tuple(_number(path, f"events_per_month[{i}]", e, 0, low_open=True)
                               for i, e in enumerate(events)),
        months_in_operation=_number(path, "months_in_operation", document["months_in_operation"], 1),
        average_record_bytes=_number(path, "average_record_bytes", document["average_record_bytes"], 0,
                                     low_open=True),
        enrichment_bytes=_number(path, "enrichment_bytes", document["enrichment_bytes"], 0),
        malformed_share=_number(path, "malformed_share", document["malformed_share"], 0, 1, high_open=True),
        producer_messages_per_request=_number(path, "producer_messages_per_request",
                                              document["producer_messages_per_request"], 1, 10),
        pollers_per_queue=_number(path, "pollers_per_queue", document["pollers_per_queue"], 1),
        log_bytes_per_invocation={s: _number(path, f"log_bytes_per_invocation.{s}", v, 0) for s, v in logs.items()},
        platform_log_bytes_per_invocation=_number(path, "platform_log_bytes_per_invocation",
                                                  document["platform_log_bytes_per_invocation"], 0),
        duration_ms=_durations(path, document["duration_ms"]),
    )


def load_usage(path: Path = DEFAULT_USAGE) -> Usage:
    """Read and check a usage file."""
    try:
        document = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise CostInputError(f"{path}: cannot read the usage file ({error})") from None
    return parse_usage(document, path)
