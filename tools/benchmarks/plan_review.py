"""Plan + review offline: one stack, and dev + staging + prod, now against a baseline commit in the same run.

Each round runs these commands in child processes, each with its own plan folders, baseline and now in
turn, so that both see the same load on the machine:

  baseline, prod          ``python -m tools plan --env prod --offline`` in a clone of ``--baseline``
  baseline, three stacks  that for dev, staging and prod one after another (what a pull request paid)
  now, prod               ``python -m tools plan --env prod --offline`` here
  now, three stacks       ``python -m tools plan --env dev,staging,prod --offline`` here: one synthesis,
                          plans side by side, one checkov process, the provider schema once

Both use this checkout's interpreter and packages (the lock is the same) and Terraform CLI config.  The
baseline's phases (synth, init, plan, show, policies, checkov, provider schema, project checks) are
measured once, one after another as it ran them (:func:`sequential_phases`); now's come from
``plan --timings-json`` of the median round.  Medians, min and max per figure and the ratio now/baseline.
The provider schema answer is kept on disk after the first review (``.build/taggable-types``): the rounds
measure a desk's second plan onwards; the note says when the cache was empty.

Usage::

    python -m tools bench-plan [--runs 3] [--baseline REF] [--format markdown|json]
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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from modules.environments_file import with_account_for_reading
from tools.benchmarks import run_alone, summary
from tools.benchmarks.deploy import conditions, load_average
from tools.benchmarks.pipeline_env import BenchmarkError
from tools.benchmarks.synth import machine, positive_int

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: main before issue 24: plan and review of one stack per command, checkov and the provider schema per plan.
DEFAULT_BASELINE = "f536047"
ONE_STACK_GOAL_S = 15.0
THREE_STACKS_GOAL_S = 30.0
THREE = ("dev", "staging", "prod")

#: (key, label, goal in seconds or None): the order of the report.
FIGURES: tuple[tuple[str, str, float | None], ...] = (
    ("baseline_one_s", "baseline: `plan --env prod --offline` (plan + review)", None),
    ("now_one_s", "now: `plan --env prod --offline` (plan + review)", ONE_STACK_GOAL_S),
    ("baseline_three_s", "baseline: dev, staging, prod one after another", None),
    ("now_three_s", "now: `plan --env dev,staging,prod --offline`", THREE_STACKS_GOAL_S),
)
RATIOS = (("now_one_s", "baseline_one_s"), ("now_three_s", "baseline_three_s"))


def plan_command(envs: Sequence[str], plans_dir: Path, timings_json: Path | None = None) -> list[str]:
    command = [sys.executable, "-m", "tools", "plan", "--env", ",".join(envs), "--offline",
               "--plans-dir", str(plans_dir)]
    return command + (["--timings-json", str(timings_json)] if timings_json is not None else [])


def child_env() -> dict[str, str]:
    """This process's environment with an account and alarm subscriber for synthesis, and Terraform's CLI
    config (the provider mirror) of this checkout, which a fresh clone has not written."""
    env = with_account_for_reading({k: v for k, v in os.environ.items() if k != "ENVIRONMENT_SUFFIX"})
    env.setdefault("TF_CLI_CONFIG_FILE", str(PROJECT_ROOT / ".build" / "terraform.tfrc"))
    env.setdefault("CHECKPOINT_DISABLE", "1")
    return env


def timed(command: Sequence[str], cwd: Path, env: dict[str, str]) -> float:
    """Wall seconds of ``command``; BenchmarkError when it fails (exit 1, a blocked review, counts too)."""
    started = time.monotonic()
    result = subprocess.run(list(command), cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise BenchmarkError(f"{' '.join(command[2:7])} in {cwd} exited {result.returncode}:\n"
                             f"{(result.stdout + result.stderr)[-3000:]}")
    return seconds


def clone(ref: str, into: Path) -> Path:
    """A checkout of ``ref`` of this repository at ``into``."""
    for command in (["git", "clone", "--quiet", "--no-checkout", str(PROJECT_ROOT), str(into)],
                    ["git", "-C", str(into), "checkout", "--quiet", ref]):
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BenchmarkError(f"{' '.join(command)} failed: {result.stderr.strip()} (is {ref!r} a commit of "
                                 "this repository? give --baseline REF)")
    return into


def one_round(baseline: Path, work: Path, index: int) -> tuple[dict[str, float], dict[str, Any], dict[str, Any]]:
    """The four figures of one round, and now's phase timings for one stack and for three."""
    env = child_env()
    figures: dict[str, float] = {}
    figures["baseline_one_s"] = timed(plan_command(["prod"], work / f"b1-{index}"), baseline, env)
    one_json, three_json = work / f"now1-{index}.json", work / f"now3-{index}.json"
    figures["now_one_s"] = timed(plan_command(["prod"], work / f"n1-{index}", one_json), PROJECT_ROOT, env)
    figures["baseline_three_s"] = sum(timed(plan_command([name], work / f"b3-{index}"), baseline, env)
                                      for name in THREE)
    figures["now_three_s"] = timed(plan_command(THREE, work / f"n3-{index}", three_json), PROJECT_ROOT, env)
    return figures, json.loads(one_json.read_text()), json.loads(three_json.read_text())


def sequential_phases(work: Path, env_name: str = "prod") -> dict[str, float]:
    """The baseline's phases for one stack, each in turn as it ran them, no cache: seconds per phase."""
    from tools.plans import checkov_scan, offline, policies, public_parameters
    from tools.plans.layout import PlanFolder, stack_name
    from tools.plans.plan import synthesize_stacks
    from tools.plans.review import project_checks, taggable_types
    from tools.terraform_cli import run_terraform

    phases: dict[str, float] = {}

    def clock(name: str, action: Callable[[], Any]) -> Any:
        started = time.monotonic()
        value = action()
        phases[name] = time.monotonic() - started
        return value

    saved = dict(os.environ)
    os.environ.update(child_env())
    try:
        stack_dir = clock("synth", lambda: synthesize_stacks([env_name])[env_name])
        folder = PlanFolder.for_stack(stack_name(env_name), work / "sequential")
        shutil.copytree(stack_dir, folder.workdir, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
        public = public_parameters.public_parameter_names(stack_dir)
        offline.write_override(folder.workdir)
        endpoints = offline.endpoint_variables({"ssm": public_parameters.serve(public)} if public else {})
        clock("init", lambda: run_terraform(["init", "-input=false", "-no-color"], folder.workdir))
        clock("plan", lambda: run_terraform(["plan", "-input=false", "-no-color", "-refresh=false",
                                             f"-out={folder.plan_file.resolve()}"], folder.workdir,
                                            extra_env=endpoints))
        shown = clock("show", lambda: run_terraform(["show", "-json", "-no-color", str(folder.plan_file.resolve())],
                                                    folder.workdir))
        folder.plan_json.write_text(shown.stdout)
        plan = json.loads(shown.stdout)
        clock("policies", lambda: policies.evaluate(plan))
        clock("checkov", lambda: checkov_scan.scan(folder.plan_json))
        clock("provider schema", lambda: taggable_types(folder.workdir, cache_dir=work / "empty-schema-cache"))
        clock("project checks", lambda: project_checks(plan, folder.workdir))  # the schema is known by now
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return phases


def summarize(rounds: Sequence[dict[str, float]]) -> dict[str, dict[str, Any]]:
    """Per figure: each round's value, median, min, max, goal and verdict; per ratio: the medians' quotient."""
    if not rounds:
        raise BenchmarkError("no round finished: nothing to summarize")
    result: dict[str, dict[str, Any]] = {}
    for key, label, goal in FIGURES:
        values = [round_[key] for round_ in rounds]
        median = statistics.median(values)
        result[key] = {"label": label, "runs": values, "median": median, "min": min(values), "max": max(values),
                       "goal": goal, "met": None if goal is None else median <= goal}
    for now, baseline in RATIOS:
        result[now]["ratio"] = result[now]["median"] / result[baseline]["median"]
    return result


def median_round_phases(rounds: Sequence[dict[str, float]], phase_sets: Sequence[dict[str, Any]],
                        key: str) -> dict[str, Any]:
    """The phase timings of the round whose ``key`` figure is the median (the lower middle of an even count)."""
    order = sorted(range(len(rounds)), key=lambda i: rounds[i][key])
    return phase_sets[order[(len(order) - 1) // 2]]


def render_markdown(figures: dict[str, dict[str, Any]], before: dict[str, float], after_one: dict[str, Any],
                    after_three: dict[str, Any], context: str) -> str:
    runs = len(next(iter(figures.values()))["runs"])
    lines = [f"| what (median of {runs}, min–max) | seconds | now / baseline | goal |", "| --- | --- | --- | --- |"]
    for figure in figures.values():
        ratio = f"{figure['ratio']:.2f}" if "ratio" in figure else ""
        goal = "" if figure["goal"] is None else f"≤ {figure['goal']:g} s: {'met' if figure['met'] else 'NOT met'}"
        lines.append(f"| {figure['label']} | {figure['median']:.1f} ({figure['min']:.1f}–{figure['max']:.1f}) "
                     f"| {ratio} | {goal} |")
    stacks = list(dict.fromkeys(s for row in after_three["phases"].values() for s in row))
    lines += ["", "| phase (seconds) | baseline, prod, in turn | now, prod | now, three stacks: "
              + ", ".join(stacks) + " |", "| --- | --- | --- | --- |"]
    names = list(dict.fromkeys([*before, *after_one["phases"], *after_three["phases"]]))
    for name in names:
        one = after_one["phases"].get(name, {})
        three = after_three["phases"].get(name, {})
        lines.append(f"| {name} | {before.get(name, 0.0):.1f} | {sum(one.values()):.1f} | "
                     + ", ".join(f"{three[s]:.1f}" if s in three else "-" for s in stacks) + " |")
    lines.append(f"| wall | {sum(before.values()):.1f} (sum) | {after_one['wall_s']:.1f} | "
                 f"{after_three['wall_s']:.1f} |")
    return "\n".join([*lines, "", context])


def configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--runs", type=positive_int, default=3, help="rounds (default 3)")
    parser.add_argument("--baseline", default=DEFAULT_BASELINE,
                        help=f"the commit to compare with (default {DEFAULT_BASELINE}, main before issue 24)")
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown")
    parser.set_defaults(handler=lambda args: run(parser, args))
    return parser


def run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    load_before = load_average()
    schema_cache_empty = not any((PROJECT_ROOT / ".build" / "taggable-types").glob("*.json"))
    log: Callable[[str], None] = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    try:
        with tempfile.TemporaryDirectory(prefix="bench-plan-") as tmp_name:
            work = Path(tmp_name)
            baseline = clone(args.baseline, work / "baseline")
            log("baseline phases, one after another ...")
            before = sequential_phases(work)
            rounds, ones, threes = [], [], []
            for index in range(args.runs):
                log(f"round {index + 1}/{args.runs} ...")
                figures, one, three = one_round(baseline, work, index)
                log(f"round {index + 1}/{args.runs}: " + ", ".join(f"{k} {v:.1f}" for k, v in figures.items()))
                rounds.append(figures)
                ones.append(one)
                threes.append(three)
    except (BenchmarkError, RuntimeError, ValueError) as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    figures = summarize(rounds)
    after_one = median_round_phases(rounds, ones, "now_one_s")
    after_three = median_round_phases(rounds, threes, "now_three_s")
    context = {"machine": machine(), "baseline": args.baseline, "load_average_before": load_before,
               "load_average_after": load_average(),
               "note": "provider schema cache empty before the first round" if schema_cache_empty
               else "provider schema answer already cached (.build/taggable-types)"}
    if args.format == "json":
        print(json.dumps({"figures": figures, "phases": {"baseline_prod_in_turn": before, "now_prod": after_one,
                                                         "now_three": after_three}, **context}, indent=2))
    else:
        print(render_markdown(figures, before, after_one, after_three,
                              f"baseline {args.baseline}; {context['note']}; {conditions(context)}"))
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``bench-plan`` on the operator CLI (``python -m tools``)."""
    return configure(subparsers.add_parser(
        "bench-plan", help="plan + review offline of one stack and of three, now against a baseline commit",
        description=summary(__doc__),
    ))


def main(argv: Sequence[str] | None = None) -> int:
    return run_alone(configure, "python -m tools.benchmarks.plan_review", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
