"""A newcomer's first run: fresh clone -> ``make demo``'s summary, now against a baseline commit, in one run.

Each round clones this repository twice per variant (``--baseline`` and ``--ref``, default HEAD) into a
temporary folder and runs ``make demo`` there, as the README's quick start does, with every package cache
(uv, pip, pipenv, virtualenv, npm: ``XDG_CACHE_HOME`` and each tool's own variable) in a folder of the
variant's own:

  cold   the cache folder is empty, as on CI's clean machine
  warm   the same folder again, as the cold run of that variant left it (a developer's second clone)

The output lines are timestamped as they arrive: setup is the time to the line where make starts the demo
(``-m tools local demo``), the summary the time to the demo's ``Summary`` heading.  Each figure is the
median of the rounds with min and max; the report adds the size of the clone's ``.venv`` and
``node_modules``.  A round takes about ten minutes on two cores, most of it the baseline's.

Usage::

    python -m tools bench-first-run [--runs 1] [--baseline REF] [--ref REF] [--format markdown|json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from tools.benchmarks import run_alone, summary
from tools.benchmarks.deploy import conditions, load_average, read_timestamped
from tools.benchmarks.pipeline_env import BenchmarkError
from tools.benchmarks.synth import machine, positive_int

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: main before issue 24: `make demo` ran `pipenv sync --dev` and `npm ci` first.
DEFAULT_BASELINE = "f536047"
SUMMARY_GOAL_S = 120.0
#: The line make prints when it starts the demo, after the setup (the Makefile's `demo` target).
DEMO_START = "-m tools local demo"
SUMMARY_HEADING = "Summary"
ROUND_TIMEOUT_S = 1800.0
#: Where the package managers keep their caches: all pointed into the variant's cache folder.
CACHE_VARIABLES = {
    "XDG_CACHE_HOME": "xdg", "UV_CACHE_DIR": "uv", "PIP_CACHE_DIR": "pip", "PIPENV_CACHE_DIR": "pipenv",
    "VIRTUALENV_OVERRIDE_APP_DATA": "virtualenv", "npm_config_cache": "npm",
}
#: Variables of an activated environment or a running session that would leak into the clone's run.
NOT_INHERITED = ("VIRTUAL_ENV", "PIPENV_ACTIVE", "PYTHONPATH", "TAP_LOCAL_SESSION", "ENVIRONMENT_SUFFIX",
                 "TF_CLI_CONFIG_FILE", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")
VARIANTS = ("baseline", "now")
CACHES = ("cold", "warm")


def first_run_times(lines: Iterable[tuple[float, str]]) -> tuple[float, float]:
    """Seconds to the demo's start (the setup) and to its summary heading, from timestamped output lines."""
    setup_s = None
    for seconds, line in lines:
        if setup_s is None and DEMO_START in line:
            setup_s = seconds
        elif setup_s is not None and line.strip() == SUMMARY_HEADING:
            return setup_s, seconds
    if setup_s is None:
        raise BenchmarkError(f"make never started the demo (no line with {DEMO_START!r}): did the setup fail?")
    raise BenchmarkError(f"the demo printed no {SUMMARY_HEADING!r} line after starting")


def cache_env(base: dict[str, str], cache_dir: Path) -> dict[str, str]:
    """``base`` with every package cache inside ``cache_dir`` and nothing of an activated environment."""
    env = {k: v for k, v in base.items() if k not in NOT_INHERITED}
    for variable, folder in CACHE_VARIABLES.items():
        env[variable] = str(cache_dir / folder)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def clone(ref: str, into: Path) -> None:
    for command in (["git", "clone", "--quiet", "--no-checkout", str(PROJECT_ROOT), str(into)],
                    ["git", "-C", str(into), "checkout", "--quiet", ref]):
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BenchmarkError(f"{' '.join(command)} failed: {result.stderr.strip()} (is {ref!r} a commit of "
                                 "this repository?)")


def resolved(ref: str) -> str:
    """The commit ``ref`` names now, so that every round measures the same one while work goes on."""
    result = subprocess.run(["git", "-C", str(PROJECT_ROOT), "rev-parse", "--verify", f"{ref}^{{commit}}"],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BenchmarkError(f"{ref!r} names no commit of this repository: {result.stderr.strip()}")
    return result.stdout.strip()


def size_mib(path: Path) -> float | None:
    """Disk use of ``path`` in MiB (``du``), None when it does not exist."""
    if not path.exists():
        return None
    result = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=False)
    return int(result.stdout.split()[0]) / 1024 if result.returncode == 0 else None


def measure_once(ref: str, folder: Path, cache_dir: Path) -> dict[str, Any]:
    """Clone ``ref`` into ``folder`` and run ``make demo`` there with caches in ``cache_dir``."""
    clone(ref, folder)
    env = cache_env(dict(os.environ), cache_dir)
    started = time.monotonic()
    process = subprocess.Popen(["make", "demo"], cwd=folder, env=env, text=True, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    watchdog = subprocess.Popen(["sleep", str(ROUND_TIMEOUT_S)])
    try:
        lines = read_timestamped(process, time.monotonic, started)
        code = process.wait()
        exit_s = time.monotonic() - started
    finally:
        watchdog.kill()
        watchdog.wait()
        if process.poll() is None:
            process.kill()
            process.wait()
    if code != 0:
        tail = "\n".join(line for _, line in lines[-40:])
        raise BenchmarkError(f"make demo in a clone of {ref} exited {code} after {exit_s:.0f} s:\n{tail}")
    setup_s, summary_s = first_run_times(lines)
    return {"setup_s": setup_s, "demo_s": summary_s - setup_s, "summary_s": summary_s,
            "venv_mib": size_mib(folder / ".venv"), "node_modules_mib": size_mib(folder / "node_modules")}


def measure(refs: dict[str, str], runs: int, log: Callable[[str], None]) -> list[dict[str, dict[str, Any]]]:
    """``runs`` rounds: per variant a cold then a warm first run, the variants in turn; each round's figures
    keyed ``<variant>-<cache>``."""
    rounds = []
    for index in range(runs):
        figures: dict[str, dict[str, Any]] = {}
        with tempfile.TemporaryDirectory(prefix="bench-first-run-") as tmp_name:
            tmp = Path(tmp_name)
            for cache in CACHES:
                for variant in VARIANTS:
                    key = f"{variant}-{cache}"
                    log(f"round {index + 1}/{runs}: {key} (make demo in a fresh clone of {refs[variant]}) ...")
                    folder = tmp / key
                    figures[key] = measure_once(refs[variant], folder, tmp / f"cache-{variant}")
                    shutil.rmtree(folder)  # a baseline clone holds a 1.1 GB .venv
                    log(f"  setup {figures[key]['setup_s']:.1f} s, summary at {figures[key]['summary_s']:.1f} s")
        rounds.append(figures)
    return rounds


def summarize(rounds: Sequence[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per variant and cache: the median, min and max of setup, demo and summary, the sizes, the verdict."""
    if not rounds:
        raise BenchmarkError("no round finished: nothing to summarize")
    result: dict[str, dict[str, Any]] = {}
    for key in rounds[0]:
        entry: dict[str, Any] = {}
        for figure in ("setup_s", "demo_s", "summary_s"):
            values = [round_[key][figure] for round_ in rounds]
            entry[figure] = {"runs": values, "median": statistics.median(values), "min": min(values),
                             "max": max(values)}
        entry["venv_mib"] = rounds[-1][key]["venv_mib"]
        entry["node_modules_mib"] = rounds[-1][key]["node_modules_mib"]
        entry["goal"] = SUMMARY_GOAL_S if key.startswith("now") else None
        entry["met"] = None if entry["goal"] is None else entry["summary_s"]["median"] <= SUMMARY_GOAL_S
        result[key] = entry
    for cache in CACHES:
        now, baseline = result.get(f"now-{cache}"), result.get(f"baseline-{cache}")
        if now and baseline:
            now["ratio"] = now["summary_s"]["median"] / baseline["summary_s"]["median"]
    return result


def render_markdown(figures: dict[str, dict[str, Any]], context: str) -> str:
    runs = len(next(iter(figures.values()))["summary_s"]["runs"])

    def cell(value: dict[str, float]) -> str:
        spread = f" ({value['min']:.1f}–{value['max']:.1f})" if runs > 1 else ""
        return f"{value['median']:.1f}{spread}"

    def mib(value: float | None) -> str:
        return "none" if value is None else f"{value:.0f} MiB"

    lines = [f"| fresh clone -> `make demo` (median of {runs}) | setup s | demo s | to summary s | now / baseline "
             "| .venv | node_modules | goal |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for key, entry in figures.items():
        ratio = f"{entry['ratio']:.2f}" if "ratio" in entry else ""
        goal = "" if entry["goal"] is None else f"≤ {entry['goal']:g} s: {'met' if entry['met'] else 'NOT met'}"
        lines.append(f"| {key.replace('-', ', ')} cache | {cell(entry['setup_s'])} | {cell(entry['demo_s'])} | "
                     f"{cell(entry['summary_s'])} | {ratio} | {mib(entry['venv_mib'])} | "
                     f"{mib(entry['node_modules_mib'])} | {goal} |")
    return "\n".join([*lines, "", context])


def configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--runs", type=positive_int, default=1, help="rounds (default 1: about ten minutes each)")
    parser.add_argument("--baseline", default=DEFAULT_BASELINE,
                        help=f"the commit to compare with (default {DEFAULT_BASELINE}, main before issue 24)")
    parser.add_argument("--ref", default="HEAD", help="the commit measured as now (default HEAD: commit first)")
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown")
    parser.set_defaults(handler=lambda args: run(parser, args))
    return parser


def run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    load_before = load_average()
    try:
        args.baseline, args.ref = resolved(args.baseline)[:12], resolved(args.ref)[:12]
        rounds = measure({"baseline": args.baseline, "now": args.ref}, args.runs,
                         lambda text: print(text, file=sys.stderr, flush=True))
    except (BenchmarkError, OSError) as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    figures = summarize(rounds)
    context = {"machine": machine(), "baseline": args.baseline, "ref": args.ref,
               "load_average_before": load_before, "load_average_after": load_average()}
    if args.format == "json":
        print(json.dumps({"figures": figures, **context}, indent=2))
    else:
        print(render_markdown(figures, f"baseline {args.baseline}, now {args.ref}; {conditions(context)}"))
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``bench-first-run`` on the operator CLI (``python -m tools``)."""
    return configure(subparsers.add_parser(
        "bench-first-run", help="fresh clone -> make demo's summary, cold and warm caches, now against a baseline",
        description=summary(__doc__),
    ))


def main(argv: Sequence[str] | None = None) -> int:
    return run_alone(configure, "python -m tools.benchmarks.first_run", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
