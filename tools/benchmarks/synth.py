"""Synth speed: the provider bindings' fast path against the standard root import.

Every measurement runs in a fresh child process (a process imports the bindings
once), rounds interleave the variants so that a change in machine load hits all
of them alike, and each figure is the median of the runs:

  synth, fast path              python: build_app().synth() of every stack, wall time of the whole process
  standard root import          python: `import cdktf_cdktf_provider_aws` only, timed inside the child
  synth, standard import        as the first, with TAP_STANDARD_PROVIDER_IMPORT=1
  cdktf synth, fast / standard  the pinned CLI (node_modules/.bin/cdktf synth), with and without the switch

Peak memory is ru_maxrss: of the Python process itself, and from wait4() of the
child, which on Linux also covers its reaped descendants (the jsii node process).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from modules.environments_file import with_account_for_reading
from tools.benchmarks import run_alone, summary

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CDKTF = PROJECT_ROOT / "node_modules" / ".bin" / "cdktf"
SWITCH = "TAP_STANDARD_PROVIDER_IMPORT"
SYNTH_GOAL_S = 3.5
RATIO_GOAL = 0.30

SYNTH_CHILD = """
import json, resource, sys
import main
from modules.provider_bindings import load_provider_bindings
main.build_app(outdir=sys.argv[1]).synth()
print(json.dumps({"mode": load_provider_bindings(),
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

IMPORT_CHILD = """
import importlib, json, resource, time
from modules.runtime_env import silence_node_eol_banner
silence_node_eol_banner()
started = time.perf_counter()
importlib.import_module("cdktf_cdktf_provider_aws")
print(json.dumps({"seconds": time.perf_counter() - started,
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


class BenchmarkError(RuntimeError):
    """A child process failed or did not run the way the benchmark asked."""


@dataclass
class Variant:
    """One way of synthesizing or importing, and its runs."""

    label: str
    seconds: list[float] = field(default_factory=list)
    python_kib: list[int] = field(default_factory=list)
    tree_kib: list[int] = field(default_factory=list)

    def median(self) -> float:
        return statistics.median(self.seconds)


@dataclass(frozen=True)
class ChildRun:
    seconds: float
    tree_kib: int
    stdout: str


def run_child(command: Sequence[str], env: dict[str, str]) -> ChildRun:
    """Run ``command`` to completion; its wall time and its wait4() peak RSS."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise BenchmarkError(f"{' '.join(command[:2])} exited {process.returncode}:\n{stderr.strip()}")
    if "warning: provider bindings fast path unavailable" in stderr:
        raise BenchmarkError(f"the fast path fell back to the standard import, figures would mislead:\n{stderr}")
    return ChildRun(seconds, usage.ru_maxrss, stdout)


def child_env(*, standard: bool) -> dict[str, str]:
    """The environment of a default synth (every stack, no preview), with or without the switch."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_") and k != "ENVIRONMENT_SUFFIX"}
    env = with_account_for_reading(env)
    env.update(PIPENV_VENV_IN_PROJECT="1", PIPENV_VERBOSITY="-1", CHECKPOINT_DISABLE="1")
    if standard:
        env[SWITCH] = "1"
    return env


def _report(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def measure_python_synth(variant: Variant, *, standard: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as outdir:
        run = run_child([sys.executable, "-c", SYNTH_CHILD, outdir], child_env(standard=standard))
        stacks = sorted(p.parent.name for p in Path(outdir).glob("stacks/*/cdk.tf.json"))
    report = _report(run.stdout)
    expected = "standard" if standard else "fast"
    if report["mode"] != expected:
        raise BenchmarkError(f"{variant.label}: the bindings were loaded the {report['mode']} way, not {expected}")
    if len(stacks) < 5:
        raise BenchmarkError(f"{variant.label}: synthesized only {stacks}")
    variant.seconds.append(run.seconds)
    variant.python_kib.append(report["maxrss_kib"])
    variant.tree_kib.append(run.tree_kib)


def measure_root_import(variant: Variant) -> None:
    run = run_child([sys.executable, "-c", IMPORT_CHILD], child_env(standard=True))
    report = _report(run.stdout)
    variant.seconds.append(report["seconds"])
    variant.python_kib.append(report["maxrss_kib"])
    variant.tree_kib.append(run.tree_kib)


def measure_cdktf_synth(variant: Variant, *, standard: bool) -> None:
    if not CDKTF.is_file():
        raise BenchmarkError(f"{CDKTF} is missing: run `make setup` (scripts/setup.sh) first")
    with tempfile.TemporaryDirectory(prefix="bench-cdktf-") as outdir:
        run = run_child([str(CDKTF), "synth", "--output", outdir], child_env(standard=standard))
        stacks = list(Path(outdir).glob("stacks/*/cdk.tf.json"))
    if len(stacks) < 5:
        raise BenchmarkError(f"{variant.label}: cdktf synth wrote {len(stacks)} stacks")
    variant.seconds.append(run.seconds)
    variant.tree_kib.append(run.tree_kib)


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {model}, Python {sys.version.split()[0]}"


def _mib(values: list[int]) -> str:
    return f"{statistics.median(values) / 1024:.0f}" if values else "-"


def format_report(variants: Sequence[Variant], runs: int) -> str:
    fast, root_import, standard = variants[0], variants[1], variants[2]
    lines = [
        f"synth benchmark: every stack of main.py, median of {runs} runs each; machine: {machine()}",
        f"{'':36} {'median s':>9}  {'peak RSS MiB':>12}  {'+descendants':>12}  runs (s)",
    ]
    for variant in variants:
        runs_s = " ".join(f"{s:.2f}" for s in variant.seconds)
        lines.append(f"{variant.label:36} {variant.median():9.2f}  {_mib(variant.python_kib):>12}  "
                     f"{_mib(variant.tree_kib):>12}  {runs_s}")
    ratio = fast.median() / root_import.median()
    lines += [
        f"synth(fast) / standard root import: {ratio:.2f} (goal <= {RATIO_GOAL:.2f}: "
        f"{'met' if ratio <= RATIO_GOAL else 'NOT met'})",
        f"median synth(fast): {fast.median():.2f} s (goal <= {SYNTH_GOAL_S} s: "
        f"{'met' if fast.median() <= SYNTH_GOAL_S else 'NOT met'})",
        f"synth(standard) / synth(fast): {standard.median() / fast.median():.1f}x",
    ]
    if len(variants) == 5:
        lines.append(f"cdktf synth(standard) / cdktf synth(fast): {variants[4].median() / variants[3].median():.1f}x")
    return "\n".join(lines)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of runs >= 1")
    return value


def non_negative_int(text: str) -> int:
    return 0 if text.strip() == "0" else positive_int(text)


def run(args: argparse.Namespace) -> int:
    """Measure every variant ``args.runs`` times (cdktf synth ``args.cdktf_runs`` times) and print the figures."""
    variants = [Variant("synth, fast path"), Variant("standard root import (import only)"),
                Variant("synth, standard import")]
    cdktf = [Variant("cdktf synth, fast path"), Variant("cdktf synth, standard import")]
    try:
        for round_ in range(max(args.runs, args.cdktf_runs)):
            if round_ < args.runs:
                print(f"round {round_ + 1}: python", file=sys.stderr, flush=True)
                measure_python_synth(variants[0], standard=False)
                measure_root_import(variants[1])
                measure_python_synth(variants[2], standard=True)
            if round_ < args.cdktf_runs:
                print(f"round {round_ + 1}: cdktf synth", file=sys.stderr, flush=True)
                measure_cdktf_synth(cdktf[0], standard=False)
                measure_cdktf_synth(cdktf[1], standard=True)
    except BenchmarkError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    print(format_report(variants + (cdktf if args.cdktf_runs else []), args.runs))
    return 0


def configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--runs", type=positive_int, default=5, help="runs of each python variant (default 5)")
    parser.add_argument("--cdktf-runs", type=non_negative_int, default=5,
                        help="runs of cdktf synth each way (default 5; 0 skips the CLI)")
    parser.set_defaults(handler=run)
    return parser


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``bench-synth`` on the operator CLI (``python -m tools``)."""
    return configure(subparsers.add_parser("bench-synth", help="synth speed: fast provider import vs standard",
                                           description=summary(__doc__)))


def main(argv: Sequence[str] | None = None) -> int:
    return run_alone(configure, "python -m tools.benchmarks.synth", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
