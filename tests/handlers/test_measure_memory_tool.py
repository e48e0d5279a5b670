"""tools/measure_memory.py: the sizing rule and the report format (the measurement itself runs by hand)."""

from __future__ import annotations

import json

import pytest

from tools import measure_memory


@pytest.mark.parametrize(("peak_mib", "configure_mb"), [(20.0, 128), (64.0, 128), (64.2, 129), (150.0, 300)])
def test_configured_memory_is_twice_the_peak_and_at_least_lambdas_minimum(
    peak_mib: float, configure_mb: int
) -> None:
    assert measure_memory.recommended_memory_mb(peak_mib) == configure_mb, "max(128, ceil(2 x peak))"


def test_realistic_records_are_nested_and_about_the_requested_size() -> None:
    for target in (1_000, 4_000):
        data = measure_memory.realistic_data(7, target)
        size = len(json.dumps(data, separators=(",", ":")))
        assert target - 300 <= size <= target + 300, (
            f"a {target}-byte record must be about that size, is {size}"
        )
        assert isinstance(data["customer"]["address"], dict) and data["lines"], (
            "data has nested objects and lists"
        )


def test_markdown_report_has_one_row_per_stage_and_the_notes() -> None:
    row = {
        "stage": "validator",
        "batch_size": 10,
        "record_kb_min": 1.0,
        "record_kb_max": 4.1,
        "cold_ms": 130.0,
        "warm_ms_median": 37.5,
        "rss_start_mib": 15.8,
        "rss_init_mib": 49.1,
        "tracemalloc_peak_mib_max": 0.41,
        "rss_growth_mib": 2.3,
        "est_lambda_peak_mib": 51.4,
        "process_peak_mib": 94.5,
        "recommended_memory_mb": 128,
        "runtime_allowance_mib": 0.0,
    }

    report = measure_memory.render_markdown([row], batch_size=10, runs=7)

    lines = report.splitlines()
    assert lines[0].startswith("| stage | batch | cold ms |"), "a Markdown header row first"
    assert lines[2] == "| validator | 10 | 130 | 37.5 | 49.1 | 0.41 | 2.3 | 51.4 | 94.5 | 128 |", (
        "one row per stage"
    )
    assert "medians of 7 runs" in report and "max(128, ceil(2 x est. peak))" in report, (
        "the notes explain the figures"
    )
