"""tools/benchmarks/memory.py (bench-memory): the sizing rule, the batches it measures, the canned replies, the
report; and the functions' memory against the peaks docs/performance.md records from a run of it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from handlers.shared import codec, contract
from tools.benchmarks import memory as measure_memory

PERFORMANCE = Path(__file__).resolve().parents[3] / "docs" / "performance.md"


@pytest.mark.parametrize(
    ("peak_mib", "configure_mb"), [(20.0, 128), (85.3, 128), (85.4, 129), (150.0, 225), (150.1, 226)]
)
def test_configured_memory_is_one_and_a_half_times_the_peak_and_at_least_lambdas_minimum(
    peak_mib: float, configure_mb: int
) -> None:
    assert measure_memory.recommended_memory_mb(peak_mib) == configure_mb, "max(128, ceil(1.5 x peak))"


def test_each_stage_is_sized_from_its_largest_peak_over_all_batches() -> None:
    results = [
        {"stage": "validator", "est_lambda_peak_mib": 60.0},
        {"stage": "validator", "est_lambda_peak_mib": 100.0},
        {"stage": "processor", "est_lambda_peak_mib": 200.0},
    ]

    assert measure_memory.configured_memory(results) == {"validator": 150, "processor": 300}, (
        "the worst batch decides"
    )


def test_realistic_records_are_nested_and_about_the_requested_size() -> None:
    for target in (1_000, 4_000):
        data = measure_memory.realistic_data(7, target)
        size = len(json.dumps(data, separators=(",", ":")))
        assert target - 300 <= size <= target + 300, f"a {target}-byte record must be about that size, is {size}"
        assert isinstance(data["customer"]["address"], dict) and data["lines"], "nested objects and lists"


def _values(value: object) -> int:
    if isinstance(value, dict):
        return sum(_values(item) for item in value.values())
    if isinstance(value, list):
        return sum(_values(item) for item in value)
    return 1


def _depth(value: object) -> int:
    if isinstance(value, dict | list):
        items = value.values() if isinstance(value, dict) else value
        return 1 + max((_depth(item) for item in items), default=0)
    return 0


@pytest.mark.parametrize("batch", ["numbers", "strings", "nested"])
def test_worst_case_bodies_are_valid_and_at_the_contract_limits(batch: str) -> None:
    (body,) = measure_memory.stage_bodies("enricher", 1, batch)  # the normalized record
    record = contract.parse_record(body)  # raises if the contract refuses it

    if batch == "nested":  # arrays cost DynamoDB more than JSON: the 400 KB item limit binds first
        assert 390_000 <= contract.check_data(record.data) <= 400_000, "within 10 KB of DynamoDB's item limit"
    else:
        assert 259_000 <= len(body.encode()) <= 261_632, "within ~3 KB of the record size limit"
    values = _values(record.data)
    assert values <= 10_000, "within the value bound"
    if batch in ("numbers", "strings"):
        assert values == 10_000, "every value the bound allows"
        kinds = {type(item).__name__ for item in record.data["v"]}
        assert kinds == ({"Decimal"} if batch == "numbers" else {"str"}), f"only {batch}"
    else:
        assert _depth(record.data) == 31, "containers as deep as DynamoDB stores them"


def test_worst_case_numbers_keep_24_digits() -> None:
    (body,) = measure_memory.stage_bodies("enricher", 1, "numbers")
    first = codec.loads(body)["data"]["v"][1]

    assert len(first.as_tuple().digits) == 24, "numbers are parsed exactly, not as floats"


def test_canned_reply_answers_every_entry_of_a_send() -> None:
    from botocore.awsrequest import AWSRequest

    entries = [{"Id": "0", "MessageBody": "a"}, {"Id": "1", "MessageBody": "b"}]
    request = AWSRequest(
        method="POST", url="https://sqs.example", data=json.dumps({"Entries": entries}),
        headers={"X-Amz-Target": "AmazonSQS.SendMessageBatch"},
    ).prepare()  # fmt: skip

    reply = json.loads(measure_memory.canned_reply(request).content)

    assert [entry["Id"] for entry in reply["Successful"]] == ["0", "1"] and reply["Failed"] == [], "all sent"
    assert reply["Successful"][0]["MD5OfMessageBody"] == "0cc175b9c0f1b6a831c399e269772661", "MD5 of 'a'"


def test_markdown_report_has_a_row_per_stage_and_batch_and_the_memory_per_function() -> None:
    row = {
        "stage": "validator", "batch": "numbers", "batch_size": 10, "record_kb_min": 260.0, "record_kb_max": 260.1,
        "cold_ms": 130.0, "warm_ms_median": 37.5, "rss_start_mib": 15.8, "rss_init_mib": 49.1,
        "tracemalloc_peak_mib_max": 30.4, "rss_growth_mib": 22.3, "est_lambda_peak_mib": 79.5,
        "process_peak_mib": 94.5, "runtime_allowance_mib": 0.0,
    }  # fmt: skip

    report = measure_memory.render_markdown([row], batch_size=10, runs=5, settings={"validator": 256})

    lines = report.splitlines()
    assert lines[0].startswith("| stage | batch | records KB |"), "a Markdown header row first"
    assert lines[2] == "| validator | numbers | 260.1 | 130 | 37.5 | 49.1 | 30.4 | 22.3 | 79.5 | 94.5 |", "a row"
    assert "| validator | 79.5 | 128 | 256 |" in lines, "largest peak, what it needs, what it gets"
    assert "medians of 5 runs" in report and "max(128, ceil(1.5 x its largest est. peak))" in report, "notes"


def recorded_peaks() -> dict[str, float]:
    """The largest est. peak per stage, from the table docs/performance.md records from a run of ``make memory``."""
    section = PERFORMANCE.read_text(encoding="utf-8").split("## Memory, by measurement", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (validator|enricher|processor) \| ([0-9.]+) \| \d+ \| \d+ \|$", section, re.M)
    return {stage: float(peak) for stage, peak in rows}


def test_every_function_gets_one_and_a_half_times_its_measured_worst_case_peak() -> None:
    # Of the shipped environments file: what the recorded measurements say each function needs.
    from main import environments_file

    shipped = environments_file({})
    peaks = recorded_peaks()
    assert set(peaks) == {"validator", "enricher", "processor"}, "docs/performance.md records a peak for every stage"
    for environment in shipped.names:
        for stage, function in shipped.environment(environment).functions.items():
            assert function.memory_mb >= 1.5 * peaks[stage], (
                f"{environment} {stage}: {function.memory_mb} MB < 1.5 x its measured {peaks[stage]} MiB"
            )
