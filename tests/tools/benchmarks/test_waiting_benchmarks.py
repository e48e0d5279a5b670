"""bench-first-run and bench-plan: what they read from the commands' output, the medians and ratios they report.

No clone, demo or plan runs here: a real round takes minutes (docs/performance.md gives the commands and
their figures).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.__main__ import parser as tools_parser
from tools.benchmarks import first_run, plan_review
from tools.benchmarks.pipeline_env import BenchmarkError

# `make demo` in a fresh clone, shortened, with arrival times.
FIRST_RUN_LINES = [
    (0.2, "[setup] installing uv (the installer) into .build/uv"),
    (3.1, "[setup] installing the demo's locked Python packages into .venv (scripts/demo-packages.txt)"),
    (11.8, "/tmp/x/.venv/bin/python -m tools local demo "),
    (11.9, "[   0.0s] starting the AWS emulator (moto server) ..."),
    (95.0, "Summary"),
    (95.1, "  events sent              200  (190 valid, 10 malformed)"),
]


def test_setup_runs_to_makes_demo_line_and_the_summary_to_its_heading() -> None:
    assert first_run.first_run_times(FIRST_RUN_LINES) == (11.8, 95.0)


def test_a_summary_heading_before_the_demo_started_is_not_the_demos() -> None:
    lines = [(1.0, "Summary"), *FIRST_RUN_LINES]
    assert first_run.first_run_times(lines) == (11.8, 95.0)


def test_a_run_whose_setup_failed_or_whose_demo_printed_no_summary_is_refused() -> None:
    with pytest.raises(BenchmarkError, match="make never started the demo"):
        first_run.first_run_times(FIRST_RUN_LINES[:2])
    with pytest.raises(BenchmarkError, match="printed no 'Summary' line"):
        first_run.first_run_times(FIRST_RUN_LINES[:4])


def test_every_package_cache_points_into_the_variants_folder_and_no_activated_environment_leaks() -> None:
    env = first_run.cache_env({"PATH": "/bin", "VIRTUAL_ENV": "/work/main/.venv", "PIP_CACHE_DIR": "/root/.cache",
                               "TF_CLI_CONFIG_FILE": "/work/main/.build/terraform.tfrc"}, Path("/tmp/c"))
    assert env["PATH"] == "/bin"
    assert "VIRTUAL_ENV" not in env and "TF_CLI_CONFIG_FILE" not in env
    for variable in ("UV_CACHE_DIR", "PIP_CACHE_DIR", "PIPENV_CACHE_DIR", "npm_config_cache", "XDG_CACHE_HOME"):
        assert env[variable].startswith("/tmp/c/"), variable


def _first_round(now_cold: float, baseline_cold: float) -> dict[str, dict]:
    def entry(summary_s: float) -> dict:
        return {"setup_s": 10.0, "demo_s": summary_s - 10.0, "summary_s": summary_s, "venv_mib": 400.0,
                "node_modules_mib": None}
    return {"baseline-cold": entry(baseline_cold), "now-cold": entry(now_cold),
            "baseline-warm": entry(baseline_cold / 2), "now-warm": entry(now_cold / 2)}


def test_first_run_figures_hold_the_ratio_to_the_baseline_and_the_120_s_goal_on_both_sides() -> None:
    figures = first_run.summarize([_first_round(100.0, 250.0), _first_round(130.0, 270.0),
                                   _first_round(110.0, 260.0)])
    assert figures["now-cold"]["summary_s"]["median"] == 110.0
    assert figures["now-cold"]["ratio"] == pytest.approx(110.0 / 260.0)
    assert figures["now-cold"]["met"] is True
    assert first_run.summarize([_first_round(120.5, 250.0)])["now-cold"]["met"] is False
    assert first_run.summarize([_first_round(120.0, 250.0)])["now-cold"]["met"] is True
    assert figures["baseline-cold"]["goal"] is None
    report = first_run.render_markdown(figures, "context line")
    assert "| now, cold cache | 10.0 (10.0–10.0) | 100.0 (90.0–120.0) | 110.0 (100.0–130.0) | 0.42 |" in report
    assert "| none | ≤ 120 s: met |" in report


def _plan_round(now_one: float, now_three: float) -> dict[str, float]:
    return {"baseline_one_s": 40.0, "now_one_s": now_one, "baseline_three_s": 120.0, "now_three_s": now_three}


def test_plan_figures_hold_ratios_and_the_goals_of_15_and_30_s() -> None:
    rounds = [_plan_round(14.0, 29.0), _plan_round(16.0, 31.0), _plan_round(15.0, 30.0)]
    figures = plan_review.summarize(rounds)
    assert figures["now_one_s"]["median"] == 15.0 and figures["now_one_s"]["met"] is True
    assert figures["now_three_s"]["median"] == 30.0 and figures["now_three_s"]["met"] is True
    assert figures["now_one_s"]["ratio"] == pytest.approx(15.0 / 40.0)
    assert figures["now_three_s"]["ratio"] == pytest.approx(30.0 / 120.0)
    assert plan_review.summarize([_plan_round(15.1, 30.1)])["now_one_s"]["met"] is False
    assert plan_review.summarize([_plan_round(15.1, 30.1)])["now_three_s"]["met"] is False


def test_the_phase_breakdown_is_that_of_the_median_round() -> None:
    rounds = [_plan_round(20.0, 0), _plan_round(10.0, 0), _plan_round(15.0, 0)]
    phases = [{"round": 0}, {"round": 1}, {"round": 2}]
    assert plan_review.median_round_phases(rounds, phases, "now_one_s") == {"round": 2}


def test_the_plan_report_lists_the_phases_before_and_after() -> None:
    figures = plan_review.summarize([_plan_round(14.0, 29.0)])
    before = {"synth": 11.0, "checkov": 8.0}
    one = {"wall_s": 14.0, "phases": {"synth": {"tap-pipeline-prod": 6.0}, "checkov": {"tap-pipeline-prod": 2.0}}}
    three = {"wall_s": 29.0, "phases": {"synth": {"all": 8.0}, "checkov": {"tap-pipeline-dev": 1.0}}}
    report = plan_review.render_markdown(figures, before, one, three, "context")
    assert "| synth | 11.0 | 6.0 | 8.0, - |" in report
    assert "| checkov | 8.0 | 2.0 | -, 1.0 |" in report
    assert "| wall | 19.0 (sum) | 14.0 | 29.0 |" in report


def test_the_plan_commands_are_the_offline_ones_with_private_plan_folders() -> None:
    command = plan_review.plan_command(["dev", "staging", "prod"], Path("/tmp/p"), Path("/tmp/t.json"))
    assert command[1:] == ["-m", "tools", "plan", "--env", "dev,staging,prod", "--offline", "--plans-dir", "/tmp/p",
                           "--timings-json", "/tmp/t.json"]


@pytest.mark.parametrize("name", ["bench-first-run", "bench-plan"])
def test_the_benchmarks_are_operator_commands_with_a_baseline(name: str) -> None:
    args = tools_parser().parse_args([name])
    assert args.baseline == "f536047" and args.format == "markdown"


def test_refs_are_resolved_to_one_commit_and_a_bad_one_is_refused() -> None:
    assert len(first_run.resolved("HEAD")) == 40
    with pytest.raises(BenchmarkError, match="'no-such-ref' names no commit of this repository"):
        first_run.resolved("no-such-ref")
