"""Cold start: each handler module's import time and a fresh process's first invocation, against the
emulator (moto's server).

Every figure comes from a fresh interpreter (one per run and stage; rounds interleave the stages so a
change in machine load hits them alike), timed inside the child with ``time.perf_counter``:

  import            ``importlib.import_module("handlers.<stage>.app")``
  first invocation  that import, then one handler call on a batch of 10 typical records: the call makes
                    the stage's AWS client and sends to the emulator's queues or table

The interpreter's own start is left out: Lambda's runtime has started before it imports the handler.
``--root`` measures the handlers of another checkout (e.g. ``git worktree add /tmp/before HEAD~3``) with
the same batches and emulator, to compare before and after a change. The child's CPU time
(``time.process_time``) is reported beside each wall time: on a machine shared with other work it moves
less with the load.

Usage::

    python -m tools bench-coldstart [--runs 5] [--root PATH] [--format markdown|json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from modules.settings import STAGES
from tools.benchmarks import register, summary
from tools.benchmarks.memory import sqs_event, stage_bodies
from tools.benchmarks.pipeline_env import PROJECT_ROOT, RESULT_PREFIX, BenchmarkError, run_child, running_pipeline

IMPORT_BUDGET_MS = 150.0
FIRST_INVOCATION_BUDGET_MS = 400.0
BATCH_SIZE = 10
#: Per run: wall times, and the child's CPU time (``time.process_time``), which a busy machine inflates less.
FIGURES = ("import_ms", "first_invocation_ms", "call_ms", "import_cpu_ms", "first_invocation_cpu_ms")

# Runs in the child with only the standard library loaded before the timed import.
CHILD = """
import importlib, json, sys, time
stage, event_path = sys.argv[1], sys.argv[2]
started, cpu_started = time.perf_counter(), time.process_time()
app = importlib.import_module(f"handlers.{stage}.app")
imported, cpu_imported = time.perf_counter(), time.process_time()
result = {"import_ms": (imported - started) * 1000, "import_cpu_ms": (cpu_imported - cpu_started) * 1000,
          "module": app.__file__}
if event_path != "-":
    with open(event_path, encoding="utf-8") as file:
        event = json.load(file)

    class Context:
        function_name = "tap-bench"
        function_version = "$LATEST"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:tap-bench"
        memory_limit_in_mb = 128
        aws_request_id = "bench"

        @staticmethod
        def get_remaining_time_in_millis():
            return 60_000

    called, cpu_called = time.perf_counter(), time.process_time()
    response = app.handler(event, Context())
    result["call_ms"] = (time.perf_counter() - called) * 1000
    result["first_invocation_ms"] = result["import_ms"] + result["call_ms"]
    call_cpu_ms = (time.process_time() - cpu_called) * 1000
    result["first_invocation_cpu_ms"] = result["import_cpu_ms"] + call_cpu_ms
    result["failures"] = len(response["batchItemFailures"])
print(PREFIX + json.dumps(result), flush=True)
""".replace("PREFIX", repr(RESULT_PREFIX))


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``bench-coldstart`` on the operator CLI (``python -m tools``)."""
    return register(subparsers, "bench-coldstart",
                    "each handler's import time and first invocation in a fresh process",
                    __doc__, configure, run)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per stage and figure (default 5)")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    parser.add_argument(
        "--root", type=Path, default=PROJECT_ROOT,
        help="checkout whose handlers/ to measure (default: this one)",
    )
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=summary(__doc__))
    configure(parser)
    return run(parser, parser.parse_args(argv))


def run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    root = args.root.resolve()
    if not (root / "handlers").is_dir():
        parser.error(f"--root {args.root}: no handlers/ directory there; give the top of a checkout")
    results = measure(args.stages, args.runs, root)
    if args.format == "json":
        print(json.dumps(results, indent=2))
    else:
        print(render_markdown(results, args.runs, root))
    return 0


def measure(stages: list[str], runs: int, root: Path) -> dict[str, dict[str, Any]]:
    """Per stage: the import and first-invocation times of every run, and their medians."""
    samples: dict[str, dict[str, list[float]]] = {
        stage: {key: [] for key in FIGURES} for stage in stages
    }
    with running_pipeline() as pipeline, tempfile.TemporaryDirectory(prefix="bench-coldstart-") as tmp:
        env = pipeline.child_env(root)
        for run_index in range(runs):
            for stage in stages:
                imported = _child(stage, "-", env, root)
                for key in ("import_ms", "import_cpu_ms"):
                    samples[stage][key].append(imported[key])

                event_path = Path(tmp) / f"{stage}-{run_index}.json"
                event_path.write_text(json.dumps(sqs_event(stage_bodies(stage, BATCH_SIZE), run_index)))
                invoked = _child(stage, str(event_path), env, root)
                if invoked["failures"]:
                    raise BenchmarkError(f"{stage} reported {invoked['failures']} failed records on the emulator")
                for key in ("first_invocation_ms", "call_ms", "first_invocation_cpu_ms"):
                    samples[stage][key].append(invoked[key])
    return {stage: summarize(figures) for stage, figures in samples.items()}


def _child(stage: str, event_path: str, env: dict[str, str], root: Path) -> dict[str, Any]:
    result = run_child([sys.executable, "-c", CHILD, stage, event_path], env, cwd=root)
    expected = root / "handlers" / stage / "app.py"
    if Path(result["module"]).resolve() != expected:
        raise BenchmarkError(f"the child imported {result['module']}, not {expected}: check PYTHONPATH")
    return result


def summarize(figures: dict[str, list[float]]) -> dict[str, Any]:
    """The runs, their medians, and whether the medians are within the budgets."""
    medians = {f"{key}_median": statistics.median(values) for key, values in figures.items()}
    return {
        "runs": figures,
        **medians,
        "import_within_budget": medians["import_ms_median"] <= IMPORT_BUDGET_MS,
        "first_invocation_within_budget": medians["first_invocation_ms_median"] <= FIRST_INVOCATION_BUDGET_MS,
    }


def render_markdown(results: dict[str, dict[str, Any]], runs: int, root: Path) -> str:
    """A table of the medians with each run's range, and the budgets."""
    lines = [
        f"| stage (median of {runs}, range) | import ms | first invocation ms | of which the call ms "
        "| import CPU ms | first invocation CPU ms |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for stage, result in results.items():
        cells = []
        for key in FIGURES:
            values = result["runs"][key]
            cells.append(f"{result[key + '_median']:.0f} ({min(values):.0f}–{max(values):.0f})")
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    verdict = {
        "import": all(r["import_within_budget"] for r in results.values()),
        "first invocation": all(r["first_invocation_within_budget"] for r in results.values()),
    }
    lines += [
        "",
        "Budgets (on the wall-time medians): "
        f"import <= {IMPORT_BUDGET_MS:.0f} ms ({'met' if verdict['import'] else 'NOT met'}), "
        f"first invocation <= {FIRST_INVOCATION_BUDGET_MS:.0f} ms "
        f"({'met' if verdict['first invocation'] else 'NOT met'}) for each stage.",
        f"Handlers of {root}; a batch of {BATCH_SIZE} typical records (1-4 KB) against moto's server; "
        f"Python {sys.version.split()[0]}.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
