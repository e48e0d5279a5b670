"""The synth benchmark's arithmetic, its child measurement and its refusals; no real synth runs here."""

from __future__ import annotations

import json
import sys

import pytest

from tools.benchmarks import synth
from tools.benchmarks.synth import BenchmarkError, ChildRun, Variant


def _variants(fast: list[float], root_import: list[float], standard: list[float]) -> list[Variant]:
    return [Variant("synth, fast path", fast, [40 * 1024], [580 * 1024]),
            Variant("standard root import (import only)", root_import, [520 * 1024], [540 * 1024]),
            Variant("synth, standard import", standard, [520 * 1024], [580 * 1024])]


def test_report_gives_medians_ratio_and_met_goals() -> None:
    report = synth.format_report(_variants([3.4, 2.9, 3.0], [12.0, 10.0, 11.0], [12.0, 12.5, 11.5]), runs=3)
    assert "synth(fast) / standard root import: 0.27 (goal <= 0.30: met)" in report  # 3.0 / 11.0
    assert "median synth(fast): 3.00 s (goal <= 3.5 s: met)" in report
    assert "synth(standard) / synth(fast): 4.0x" in report  # 12.0 / 3.0
    fast_line = next(line for line in report.splitlines() if line.startswith("synth, fast path"))
    assert fast_line.split()[3:6] == ["3.00", "40", "580"]


def test_report_says_when_goals_are_not_met() -> None:
    report = synth.format_report(_variants([3.51], [11.0], [12.0]), runs=1)
    assert "(goal <= 0.30: NOT met)" in report  # 3.51 / 11.0 = 0.319
    assert "median synth(fast): 3.51 s (goal <= 3.5 s: NOT met)" in report


def test_synth_goal_boundary_is_inclusive() -> None:
    report = synth.format_report(_variants([3.5], [20.0], [12.0]), runs=1)
    assert "median synth(fast): 3.50 s (goal <= 3.5 s: met)" in report
    assert "0.17 (goal <= 0.30: met)" in report


def test_report_adds_the_cdktf_ratio_when_measured() -> None:
    variants = _variants([3.0], [11.0], [12.0]) + [Variant("cdktf synth, fast path", [6.0]),
                                                   Variant("cdktf synth, standard import", [15.0])]
    assert "cdktf synth(standard) / cdktf synth(fast): 2.5x" in synth.format_report(variants, runs=1)


@pytest.mark.parametrize("text", ["0", "-2", "five", "1.5"])
def test_runs_must_be_whole_and_positive(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        synth.main(["--runs", text])
    assert exit_info.value.code == 2
    assert f"'{text}' is not a whole number of runs >= 1" in capsys.readouterr().err


def test_cdktf_runs_may_be_zero_but_not_negative() -> None:
    assert synth.non_negative_int("0") == 0
    assert synth.non_negative_int("2") == 2
    with pytest.raises(Exception, match="not a whole number"):
        synth.non_negative_int("-1")


def test_child_wall_time_and_peak_memory_are_its_own() -> None:
    child = "import time; block = bytearray(200 * 1024 * 1024); time.sleep(0.3); print('done')"
    run = synth.run_child([sys.executable, "-c", child], env={})
    assert run.seconds >= 0.3
    assert run.tree_kib >= 200 * 1024
    assert run.stdout == "done\n"


def test_failed_child_stops_the_benchmark_with_its_error() -> None:
    with pytest.raises(BenchmarkError, match="exited 3:\nbroken on purpose"):
        synth.run_child([sys.executable, "-c", "import sys; sys.stderr.write('broken on purpose'); sys.exit(3)"],
                        env={})


def test_fallback_warning_in_a_child_stops_the_benchmark() -> None:
    child = ("import sys; sys.stderr.write('warning: provider bindings fast path unavailable (x); "
             "using the standard import\\n')")
    with pytest.raises(BenchmarkError, match="fell back to the standard import"):
        synth.run_child([sys.executable, "-c", child], env={})


@pytest.mark.parametrize(("standard", "reported"), [(False, "standard"), (True, "fast")])
def test_synth_loaded_the_other_way_is_refused(monkeypatch: pytest.MonkeyPatch, standard: bool, reported: str) -> None:
    monkeypatch.setattr(synth, "run_child", lambda command, env: ChildRun(
        1.0, 1024, json.dumps({"mode": reported, "maxrss_kib": 1024}) + "\n"))
    with pytest.raises(BenchmarkError, match=f"loaded the {reported} way, not {'standard' if standard else 'fast'}"):
        synth.measure_python_synth(Variant("x"), standard=standard)


def test_switch_is_set_only_for_the_standard_variant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAP_STACKS", "dev")
    monkeypatch.setenv("TAP_STANDARD_PROVIDER_IMPORT", "1")
    monkeypatch.setenv("ENVIRONMENT_SUFFIX", "pr7")
    fast, standard = synth.child_env(standard=False), synth.child_env(standard=True)
    assert "TAP_STANDARD_PROVIDER_IMPORT" not in fast
    assert standard["TAP_STANDARD_PROVIDER_IMPORT"] == "1"
    for env in (fast, standard):
        assert "TAP_STACKS" not in env and "ENVIRONMENT_SUFFIX" not in env, "every stack, no preview"
