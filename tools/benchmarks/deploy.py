"""Deploy on the emulator: terraform apply and destroy of `local`, and the demo's start-to-summary and teardown.

The `local` stack is synthesized once into a temporary folder (or taken from ``--stack-dir``) and copied
there with its own state, so that nothing of the checkout or of a kept environment is touched. Each round:

  apply             a fresh emulator (``Emulator.start``), ``terraform init`` (not timed), then the wall time
                    of ``terraform apply -auto-approve`` (``Deployment.apply``)
  destroy           ``terraform destroy`` of that apply, for comparison with the demo's teardown
  demo, to summary  ``python -m tools local demo --stack-dir <copy>`` in a child process with a private
                    session file (TAP_LOCAL_SESSION), its output lines timestamped as they arrive: seconds
                    from the start of the process to the summary's heading line (``Summary``)
  demo, teardown    from that line to the process's exit (the demo stops the emulator, forgets the state)

Each figure is reported as the median of the rounds with its min and max, against the goals below.

Usage::

    python -m tools bench-deploy [--runs 3] [--stack-dir DIR] [--format markdown|json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from tools.benchmarks import run_alone, summary
from tools.benchmarks.pipeline_env import BenchmarkError
from tools.benchmarks.synth import machine, positive_int
from tools.local.emulator import Emulator
from tools.local.stack import STACK_NAME, Deployment, TerraformError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
APPLY_GOAL_S = 65.0
DEMO_SUMMARY_GOAL_S = 80.0
DEMO_TEARDOWN_GOAL_S = 5.0
#: The first non-empty line of the demo's summary (``print_summary`` in tools/local/demo.py).
SUMMARY_HEADING = "Summary"
#: Past this a demo round hangs: its own delivery timeout is 900 s, an apply takes about a minute.
DEMO_GRACE_S = 30.0  # after the SIGINT: the demo's teardown stops an emulator, well under this
DEMO_TIMEOUT_S = 1200.0

#: (key, label, goal in seconds or None): the order of the report.
FIGURES: tuple[tuple[str, str, float | None], ...] = (
    ("apply_s", "`terraform apply` of `local` on a fresh emulator (init excluded)", APPLY_GOAL_S),
    ("demo_summary_s", "demo (`--stack-dir`), start to summary", DEMO_SUMMARY_GOAL_S),
    ("demo_teardown_s", "demo, summary to exit (teardown)", DEMO_TEARDOWN_GOAL_S),
    ("destroy_s", "`terraform destroy` of that apply (comparison)", None),
)

SYNTH_CHILD = "import sys, main; main.build_app(outdir=sys.argv[1]).synth()"


def demo_times(lines: Iterable[tuple[float, str]], exit_s: float) -> tuple[float, float]:
    """Seconds to the summary's heading and from it to the exit, from the demo's timestamped lines."""
    for seconds, line in lines:
        if line.strip() == SUMMARY_HEADING:
            return seconds, exit_s - seconds
    raise BenchmarkError(
        f"the demo printed no {SUMMARY_HEADING!r} line: did tools/local/demo.py change its summary? "
        "Update SUMMARY_HEADING in tools/benchmarks/deploy.py"
    )


def summarize(rounds: Sequence[dict[str, float]]) -> dict[str, dict[str, Any]]:
    """Per figure: each round's value, the median, min and max, the goal and whether the median meets it."""
    if not rounds:
        raise BenchmarkError("no round finished: nothing to summarize")
    result: dict[str, dict[str, Any]] = {}
    for key, label, goal in FIGURES:
        values = [round_[key] for round_ in rounds]
        median = statistics.median(values)
        result[key] = {
            "label": label,
            "runs": values,
            "median": median,
            "min": min(values),
            "max": max(values),
            "goal": goal,
            "met": None if goal is None else median <= goal,
        }
    return result


def render_markdown(summary: dict[str, dict[str, Any]], context: str) -> str:
    """A table of the medians with each figure's min and max, its goal and verdict."""
    runs = len(next(iter(summary.values()))["runs"])
    lines = [
        f"| what (median of {runs}, min–max) | seconds | runs | goal |",
        "| --- | --- | --- | --- |",
    ]
    for figure in summary.values():
        runs_text = ", ".join(f"{value:.1f}" for value in figure["runs"])
        goal = "" if figure["goal"] is None else (
            f"≤ {figure['goal']:g} s: {'met' if figure['met'] else 'NOT met'}"
        )
        lines.append(
            f"| {figure['label']} | {figure['median']:.1f} ({figure['min']:.1f}–{figure['max']:.1f}) "
            f"| {runs_text} | {goal} |"
        )
    return "\n".join([*lines, "", context])


def read_timestamped(
    process: subprocess.Popen[str], clock: Callable[[], float], started: float
) -> list[tuple[float, str]]:
    """Every output line of ``process`` with the seconds since ``started`` at which it arrived."""
    assert process.stdout is not None
    return [(clock() - started, line.rstrip("\n")) for line in process.stdout]


def _default_sigint() -> None:
    # A child inherits an ignored SIGINT (background jobs of a non-interactive shell, pytest-xdist workers),
    # and Python then installs no KeyboardInterrupt handler: the demo could not be told to tear down.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def time_demo(command: Sequence[str], env: dict[str, str], timeout: float = DEMO_TIMEOUT_S,
              grace: float = DEMO_GRACE_S) -> tuple[float, float]:
    """Run the demo ``command`` to its exit; (start to summary, summary to exit) in seconds.

    After ``timeout`` seconds it gets SIGINT (the demo tears its environment down on KeyboardInterrupt), and
    ``grace`` seconds later it is killed.
    """
    started = time.monotonic()
    # preexec_fn runs before any thread of this process exists (the watchdog starts after).
    process = subprocess.Popen(
        list(command), cwd=PROJECT_ROOT, env=env, text=True, preexec_fn=_default_sigint,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    timed_out = threading.Event()

    def interrupt() -> None:
        timed_out.set()
        process.send_signal(signal.SIGINT)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()

    watchdog = threading.Timer(timeout, interrupt)
    watchdog.start()
    try:
        lines = read_timestamped(process, time.monotonic, started)
        code = process.wait()
        exit_s = time.monotonic() - started
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
    if code != 0 or timed_out.is_set():
        tail = "\n".join(line for _, line in lines[-40:])
        late = f", interrupted after the {timeout:g} s limit" if timed_out.is_set() else ""
        raise BenchmarkError(f"{' '.join(command[1:5])} exited {code} after {exit_s:.0f} s{late}:\n{tail}")
    return demo_times(lines, exit_s)


def synth_local(outdir: Path) -> tuple[Path, float]:
    """Synthesize only the `local` stack into ``outdir`` (state kept under it); its folder and the seconds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_") and k != "ENVIRONMENT_SUFFIX"}
    env.update(TAP_STACKS="local", TAP_LOCAL_STATE_DIR=str(outdir / "state"))
    outdir.mkdir(parents=True, exist_ok=True)  # cdktf creates only the last folder of its outdir
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-c", SYNTH_CHILD, str(outdir / "cdktf.out")],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False,
    )
    seconds = time.monotonic() - started
    stack_dir = outdir / "cdktf.out" / "stacks" / STACK_NAME
    if completed.returncode != 0 or not (stack_dir / "cdk.tf.json").is_file():
        raise BenchmarkError(f"synth of `local` failed (exit {completed.returncode}):\n{completed.stderr[-4000:]}")
    return stack_dir, seconds


def measure_apply_destroy(stack_dir: Path, state_path: Path) -> dict[str, float]:
    """One apply on a fresh emulator (init first, not timed), then its destroy; the emulator stops after."""
    emulator = Emulator.start()
    try:
        deployment = Deployment(stack_dir, emulator.endpoint, state_path)
        deployment.forget_state()
        deployment.init()
        started = time.monotonic()
        deployment.apply()
        applied = time.monotonic()
        deployment.destroy()
        destroyed = time.monotonic()
    finally:
        emulator.stop()
        Deployment(stack_dir, "", state_path).forget_state()
    return {"apply_s": applied - started, "destroy_s": destroyed - applied}


def measure_demo(stack_dir: Path, session_file: Path) -> dict[str, float]:
    """``make demo``'s command on ``stack_dir``, with its session, logs and state beside ``session_file``."""
    env = {**os.environ, "TAP_LOCAL_SESSION": str(session_file), "PYTHONUNBUFFERED": "1"}
    summary_s, teardown_s = time_demo(
        [sys.executable, "-m", "tools", "local", "demo", "--stack-dir", str(stack_dir)], env
    )
    return {"demo_summary_s": summary_s, "demo_teardown_s": teardown_s}


def measure(runs: int, source: Path | None, log: Callable[[str], None]) -> tuple[list[dict[str, float]], str]:
    """``runs`` rounds of apply/destroy and demo on a private copy of the stack; the rounds and a note."""
    with tempfile.TemporaryDirectory(prefix="bench-deploy-") as tmp_name:
        tmp = Path(tmp_name)
        if source is None:
            log("synthesizing the `local` stack ...")
            source, synth_s = synth_local(tmp / "synth")
            note = f"`local` synthesized once before the rounds in {synth_s:.1f} s (not in any figure)"
        else:
            note = f"stack from {source}"
        stack_dir = tmp / STACK_NAME
        shutil.copytree(source, stack_dir, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
        rounds = []
        for index in range(runs):
            log(f"round {index + 1}/{runs}: terraform apply and destroy ...")
            figures = measure_apply_destroy(stack_dir, tmp / "apply.tfstate")
            log(f"round {index + 1}/{runs}: apply {figures['apply_s']:.1f} s, destroy {figures['destroy_s']:.1f} s; "
                "demo ...")
            figures |= measure_demo(stack_dir, tmp / "local" / "session.json")
            log(f"round {index + 1}/{runs}: demo summary at {figures['demo_summary_s']:.1f} s, "
                f"exit {figures['demo_teardown_s']:.1f} s later")
            rounds.append(figures)
    return rounds, note


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def conditions(context: dict) -> str:
    """The machine and its load around a benchmark, from its context's ``machine`` and load averages."""
    return (f"machine: {context['machine']}; load average (1, 5, 15 min) before "
            f"{context['load_average_before']}, after {context['load_average_after']}")


def configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--runs", type=positive_int, default=3, help="rounds (default 3)")
    parser.add_argument(
        "--stack-dir", type=Path, metavar="DIR",
        help="a synthesized tap-pipeline-local folder to deploy (copied; default: synthesize it once)",
    )
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown")
    parser.set_defaults(handler=lambda args: run(parser, args))
    return parser


def run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Measure ``args.runs`` rounds and print the figures, or say why it failed (exit 1)."""
    if args.stack_dir is not None and not (args.stack_dir / "cdk.tf.json").is_file():
        parser.error(f"--stack-dir {args.stack_dir}: no cdk.tf.json there; give a synthesized "
                     f"cdktf.out/stacks/{STACK_NAME} folder, or leave the option out to synthesize one")
    load_before = load_average()
    try:
        rounds, note = measure(args.runs, args.stack_dir, lambda text: print(text, file=sys.stderr, flush=True))
    except (BenchmarkError, TerraformError, RuntimeError) as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    summary = summarize(rounds)
    context = {"machine": machine(), "load_average_before": load_before, "load_average_after": load_average(),
               "note": note}
    if args.format == "json":
        print(json.dumps({"figures": summary, **context}, indent=2))
    else:
        print(render_markdown(summary, f"{note}; {conditions(context)}"))
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``bench-deploy`` on the operator CLI (``python -m tools``)."""
    return configure(subparsers.add_parser(
        "bench-deploy", help="terraform apply/destroy of `local` on the emulator and the demo's times",
        description=summary(__doc__),
    ))


def main(argv: Sequence[str] | None = None) -> int:
    return run_alone(configure, "python -m tools.benchmarks.deploy", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
