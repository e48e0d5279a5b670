"""checkov on a plan JSON (``--framework terraform_plan``) with the project's ``.checkov.yaml`` skips."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tools.plans.layout import PROJECT_ROOT
from tools.scheduling import set_policy

CONFIG = PROJECT_ROOT / ".checkov.yaml"
#: Checks that fail on plans only, each with its reason; added to the skips of ``.checkov.yaml``.
PLAN_ONLY_SKIPS = {
    # CKV2_AWS_16 (DynamoDB autoscaling): a false positive on terraform_plan, whose graph does not link the
    # aws_appautoscaling_target (resource_id "table/<name>") to the table; on the synthesized JSON
    # (terraform_json) the same check passes, and the prod table's read and write targets are in the plan.
    "CKV2_AWS_16",
}


class CheckovError(RuntimeError):
    """checkov crashed, parsed nothing or ran no check: its silence would look like a pass."""


@dataclass(frozen=True)
class CheckovResult:
    passed: int
    failed: tuple[tuple[str, str, str], ...]  # (check id, resource address, check name)


def skipped_checks(config: Path = CONFIG) -> list[str]:
    """The project's skips (``.checkov.yaml``) and the plan-only ones: a command-line --skip-check replaces
    the config file's list, so the union is passed."""
    import yaml  # checkov's own dependency

    listed = yaml.safe_load(config.read_text()).get("skip-check", []) if config.is_file() else []
    return sorted({*listed, *PLAN_ONLY_SKIPS})


def start_checkov(*, idle: bool = True) -> subprocess.Popen[str]:
    """A checkov worker (:mod:`tools.plans.checkov_worker`): it imports checkov at once, then waits for the
    files to scan; hand it to :class:`PendingScan`, or :func:`stop_checkov` it if no scan comes. ``idle``:
    started ahead of need, it runs under SCHED_IDLE until :func:`needed_now` (set here by its parent, so that
    the worker cannot undo a :func:`needed_now` that came first)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.plans.checkov_worker"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=PROJECT_ROOT,
    )
    if idle:
        set_policy("SCHED_IDLE", process.pid)
    return process


def needed_now(process: subprocess.Popen[str]) -> None:
    """The worker's start-up is waited for from now on: the normal policy, so that a busy machine does not keep
    the review waiting for idle time (a worker that has ended, or a refusal, leaves it as it was)."""
    set_policy("SCHED_OTHER", process.pid)


def stop_checkov(process: subprocess.Popen[str]) -> None:
    """End a worker nobody gave files to (or whose scan nobody waits for any more)."""
    if process.poll() is None:
        process.kill()
    process.communicate()


class PendingScan:
    """One checkov process over several plan JSONs; :meth:`result` waits for it.

    checkov's start (its imports, its check registry) costs more than scanning one plan, so the reviews of
    several stacks share one process, a review starts it before evaluating the policies, which then run
    meanwhile, and ``make plan`` starts the worker (``process``, from :func:`start_checkov`) before the
    synthesis, so that its start is paid while the stack is synthesized and planned. Without ``--quiet`` the
    report lists the passed checks too, which gives each file its count.
    """

    def __init__(self, plan_jsons: Sequence[Path], process: subprocess.Popen[str] | None = None) -> None:
        if not plan_jsons:
            raise ValueError("no plan JSON to scan")
        self.plan_jsons = [Path(p).resolve() for p in plan_jsons]
        files = [arg for path in self.plan_jsons for arg in ("-f", str(path))]
        self._process = process if process is not None else start_checkov(idle=False)
        needed_now(self._process)
        arguments = [*files, "--framework", "terraform_plan", "--config-file", str(CONFIG),
                     "--skip-check", ",".join(skipped_checks()), "-o", "json", "--compact"]
        try:
            self._process.stdin.write(json.dumps(arguments) + "\n")  # type: ignore[union-attr]  # a PIPE
            self._process.stdin.flush()  # type: ignore[union-attr]
        except BrokenPipeError:
            pass  # the worker died starting: result() reports its exit code and standard error
        self._results: dict[Path, CheckovResult] | None = None

    def result(self, plan_json: Path) -> CheckovResult:
        """The findings of ``plan_json`` (one of the files given); CheckovError when checkov failed on it."""
        if self._results is None:
            stdout, stderr = self._process.communicate()
            self._results = results_by_file(self._process.returncode, stdout, stderr, self.plan_jsons)
        return self._results[Path(plan_json).resolve()]

    def close(self) -> None:
        """End the process if nobody waited for it (a review that failed before reading its findings)."""
        if self._results is None:
            stop_checkov(self._process)


def results_by_file(returncode: int, stdout: str, stderr: str, plan_jsons: Sequence[Path]) -> dict[Path, CheckovResult]:
    """Each plan's passed count and failed checks from one checkov report; CheckovError when one of them
    was not parsed or had no check run (its silence would look like a pass)."""
    if returncode not in (0, 1):
        raise CheckovError(f"checkov crashed (exit {returncode}): {stderr[-2000:]}")
    report = json.loads(stdout) if stdout.strip() else {}
    if isinstance(report, list):
        report = next((r for r in report if r.get("check_type") == "terraform_plan"), {})
    summary = report.get("summary", {})
    names = ", ".join(str(p) for p in plan_jsons)
    if report.get("check_type") != "terraform_plan" or summary.get("parsing_errors", 1) != 0:
        raise CheckovError(f"checkov did not parse {names} as terraform plans: {stdout[-1000:]}")
    found = report.get("results", {})
    passed: Counter[Path] = Counter(Path(c["file_abs_path"]) for c in found.get("passed_checks", []))
    failed: dict[Path, list[tuple[str, str, str]]] = {}
    for check in found.get("failed_checks", []):
        failed.setdefault(Path(check["file_abs_path"]), []).append(
            (check["check_id"], check["resource"], check["check_name"]))
    results = {}
    for path in plan_jsons:
        if passed[path] + len(failed.get(path, [])) == 0:
            raise CheckovError(f"checkov ran no check on {path}: is it a plan with resources?")
        results[path] = CheckovResult(passed[path], tuple(sorted(failed.get(path, []))))
    return results


def scan(plan_json: Path) -> CheckovResult:
    """checkov on one plan JSON."""
    return PendingScan([plan_json]).result(plan_json)
