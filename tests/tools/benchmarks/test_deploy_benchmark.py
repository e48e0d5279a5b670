"""bench-deploy: the demo's timestamped output, the medians against the goals, the report, and its refusals.

No emulator or terraform runs here: a real round takes about three minutes (docs/performance.md, "Deploy on the
emulator", gives the command and its figures).
"""

from __future__ import annotations

import json
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.__main__ import parser as tools_parser
from tools.benchmarks import deploy
from tools.benchmarks.pipeline_env import BenchmarkError

# The demo's output around its summary, as tools/local/demo.py prints it (shortened), with arrival times.
DEMO_LINES = [
    (0.4, "[   0.0s] starting the AWS emulator (moto server) ..."),
    (9.8, "[   9.4s] terraform apply ..."),
    (71.0, "         sent 200/200 | validator 190 ok/0 failed"),
    (73.3, ""),
    (73.4, "Summary"),
    (73.4, "  events sent              200  (190 valid, 10 malformed)"),
    (73.5, "  then                 the emulator stops and its state is forgotten (no terraform destroy: "
           "--destroy runs it)"),
    (74.1, "[  73.7s] emulator stopped (pid 4242) and its state forgotten, no terraform destroy, in 0.6 s; done"),
]


def _round(apply_s: float = 60.0, demo_summary_s: float = 70.0, demo_teardown_s: float = 1.0,
           destroy_s: float = 40.0) -> dict[str, float]:
    return {"apply_s": apply_s, "demo_summary_s": demo_summary_s, "demo_teardown_s": demo_teardown_s,
            "destroy_s": destroy_s}


def test_demo_times_run_to_the_summary_heading_and_from_it_to_the_exit() -> None:
    to_summary, teardown = deploy.demo_times(DEMO_LINES, exit_s=74.3)

    assert to_summary == 73.4
    assert teardown == pytest.approx(0.9)


def test_a_line_that_only_mentions_the_summary_is_not_its_heading() -> None:
    lines = [(5.0, "[   5.0s] Summary of the plan: 51 to add"), (6.0, "  Summary"), (9.0, "Summary")]

    assert deploy.demo_times(lines, exit_s=10.0) == (6.0, 4.0), "the heading is the line 'Summary' alone"
    assert deploy.demo_times(lines[:1] + lines[2:], exit_s=10.0) == (9.0, 1.0)


def test_demo_output_without_a_summary_is_refused_with_what_to_update() -> None:
    with pytest.raises(BenchmarkError, match="printed no 'Summary' line.*SUMMARY_HEADING"):
        deploy.demo_times([line for line in DEMO_LINES if line[1] != "Summary"], exit_s=74.3)


def test_summary_gives_median_min_max_of_each_figure() -> None:
    rounds = [_round(apply_s=66.3, destroy_s=41.0), _round(apply_s=59.1, destroy_s=39.0),
              _round(apply_s=62.8, destroy_s=45.5)]

    summary = deploy.summarize(rounds)

    assert (summary["apply_s"]["median"], summary["apply_s"]["min"], summary["apply_s"]["max"]) == (62.8, 59.1, 66.3)
    assert summary["apply_s"]["runs"] == [66.3, 59.1, 62.8]
    assert summary["destroy_s"]["median"] == 41.0
    assert summary["destroy_s"]["goal"] is None and summary["destroy_s"]["met"] is None


@pytest.mark.parametrize(
    ("figure", "at_goal", "over_goal"),
    [("apply_s", 65.0, 65.1), ("demo_summary_s", 80.0, 80.1), ("demo_teardown_s", 5.0, 5.1)],
)
def test_each_goal_is_met_up_to_the_issue_figure_on_the_median(figure: str, at_goal: float, over_goal: float) -> None:
    # One round far over the goal in each case: only the median counts.
    met = deploy.summarize([_round(**{figure: at_goal}), _round(**{figure: 1.0}), _round(**{figure: 999.0})])
    missed = deploy.summarize([_round(**{figure: over_goal}), _round(**{figure: 1.0}), _round(**{figure: 999.0})])

    assert met[figure]["median"] == at_goal and met[figure]["met"] is True
    assert missed[figure]["median"] == over_goal and missed[figure]["met"] is False


def test_no_round_is_refused() -> None:
    with pytest.raises(BenchmarkError, match="no round finished"):
        deploy.summarize([])


def test_report_has_a_row_per_figure_with_range_runs_and_verdict() -> None:
    summary = deploy.summarize([_round(59.1, 73.1, 0.7), _round(62.8, 81.0, 0.8), _round(66.3, 80.5, 1.0)])

    report = deploy.render_markdown(summary, "machine: test").splitlines()

    assert report[0].startswith("| what (median of 3, min–max) |")
    assert "| 62.8 (59.1–66.3) | 59.1, 62.8, 66.3 | ≤ 65 s: met |" in report[2]
    assert "| 80.5 (73.1–81.0) | 73.1, 81.0, 80.5 | ≤ 80 s: NOT met |" in report[3]
    assert report[4].endswith("| 0.8 (0.7–1.0) | 0.7, 0.8, 1.0 | ≤ 5 s: met |")
    assert report[5].endswith("| 40.0 (40.0–40.0) | 40.0, 40.0, 40.0 |  |"), "destroy has no goal"
    assert report[-1] == "machine: test"


def test_time_demo_timestamps_lines_as_they_arrive() -> None:
    # A stand-in for the demo: the summary 0.5 s after the start, the exit 0.3 s after it.
    script = "import time; print('step', flush=True); time.sleep(0.5); print('Summary', flush=True); time.sleep(0.3)"

    to_summary, teardown = deploy.time_demo([sys.executable, "-c", script], env={})

    assert 0.5 <= to_summary < 5.0
    assert 0.3 <= teardown < 2.0


def test_a_failed_demo_stops_the_benchmark_with_its_output() -> None:
    script = "print('Summary'); print('MISMATCH: events unaccounted for'); raise SystemExit(1)"

    with pytest.raises(BenchmarkError, match="(?s)exited 1 after .*MISMATCH: events unaccounted for"):
        deploy.time_demo([sys.executable, "-c", script], env={})


HANGING = "import time\ntry:\n    time.sleep(30)\nexcept KeyboardInterrupt:\n    raise SystemExit(130)"


@pytest.fixture
def sigint_ignored() -> Iterator[None]:
    """This process ignores SIGINT, as background jobs of a shell and pytest-xdist workers do."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_hanging_demo_is_interrupted_after_the_timeout(sigint_ignored: None) -> None:
    # The child must get its KeyboardInterrupt although it inherits an ignored SIGINT from here.
    with pytest.raises(BenchmarkError, match=r"exited 130 after \d+ s, interrupted after the 0.5 s limit"):
        deploy.time_demo([sys.executable, "-c", HANGING], env={}, timeout=0.5, grace=20)


def test_a_demo_deaf_to_sigint_is_killed_after_the_grace_period() -> None:
    # The shell ignores SIGINT within a millisecond of its start and `exec` keeps it ignored: a Python child
    # would need its interpreter up first, which a loaded machine can delay past the limit (it then dies of
    # the SIGINT, -2, and the kill is never tried).
    deaf = ["sh", "-c", "trap '' INT; exec sleep 30"]
    started = time.monotonic()
    with pytest.raises(BenchmarkError, match=r"exited -9 after \d+ s, interrupted after the 2 s limit"):
        deploy.time_demo(deaf, env={}, timeout=2, grace=0.5)
    assert time.monotonic() - started < 10, "killed soon after the grace period, not after the child's 30 s"


def test_bench_deploy_is_registered_with_three_rounds_by_default() -> None:
    args = tools_parser().parse_args(["bench-deploy"])

    assert (args.runs, args.stack_dir, args.format) == (3, None, "markdown")


@pytest.mark.parametrize("runs", ["0", "-1", "two"])
def test_runs_must_be_a_whole_number_of_at_least_one(runs: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        deploy.main(["--runs", runs])

    assert "is not a whole number of runs >= 1" in capsys.readouterr().err


def test_a_stack_dir_without_cdk_tf_json_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        deploy.main(["--stack-dir", str(tmp_path)])

    assert f"--stack-dir {tmp_path}: no cdk.tf.json there" in capsys.readouterr().err


def test_json_report_carries_the_figures_and_the_load(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(deploy, "measure", lambda runs, source, log: ([_round()] * runs, "a note"))

    assert deploy.main(["--runs", "2", "--format", "json"]) == 0

    report = json.loads(capsys.readouterr().out)
    assert report["figures"]["apply_s"]["runs"] == [60.0, 60.0]
    assert report["note"] == "a note" and len(report["load_average_before"].split()) == 3


def test_a_failed_round_exits_1_with_the_reason(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    def fail(runs: int, source: Path | None, log: object) -> None:
        raise BenchmarkError("terraform apply failed")

    monkeypatch.setattr(deploy, "measure", fail)

    assert deploy.main([]) == 1
    assert "benchmark failed: terraform apply failed" in capsys.readouterr().err
