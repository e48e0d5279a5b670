"""What the documents show that can be computed: each function returns one generated block's Markdown.

The inputs are the shipped environments synthesized into a folder (``stacks_dir``), the operator command line,
the Makefile, the test suite and, for the sample review, a reviewed offline plan of `prod`.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

    from tools.plans.review import Review

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PIPELINE_PREFIX = "tap-pipeline-"
BOOTSTRAP_STACK = "tap-pipeline-state"
#: The scale at which the sample review and the comparison with the draft are shown (the review's default).
COMPARISON_EVENTS = 10_000_000


@dataclass(frozen=True)
class StackCounts:
    """What one synthesized stack holds."""

    resources: int
    data_sources: int
    removed_blocks: int


def stack_counts(stacks_dir: Path, order: Sequence[str] = ()) -> dict[str, StackCounts]:
    """Each synthesized stack's resources, data sources and ``removed`` blocks, by stack name: the stacks of the
    environments named in ``order`` first, in that order, then the others by name."""
    counts = {}
    folders = sorted((p for p in stacks_dir.iterdir() if (p / "cdk.tf.json").is_file()),
                     key=lambda p: (_position(p.name, order), p.name))
    for folder in folders:
        document = json.loads((folder / "cdk.tf.json").read_text())
        removed = folder / "removed.tf"
        counts[folder.name] = StackCounts(
            resources=sum(len(by_name) for by_name in document.get("resource", {}).values()),
            data_sources=sum(len(by_name) for by_name in document.get("data", {}).values()),
            removed_blocks=len(re.findall(r"^removed \{", removed.read_text(), re.M)) if removed.is_file() else 0,
        )
    return counts


def _position(stack: str, order: Sequence[str]) -> int:
    names = [f"{PIPELINE_PREFIX}{name}" for name in order]
    return names.index(stack) if stack in names else len(names)


def _environments(counts: Mapping[str, StackCounts]) -> list[str]:
    from modules.ci_settings import CI_STACK_NAME

    return [n for n in counts if n.startswith(PIPELINE_PREFIX) and n not in (BOOTSTRAP_STACK, CI_STACK_NAME)]


def resource_summary(counts: Mapping[str, StackCounts]) -> str:
    """One sentence: the resources of each environment's stack and of the bootstrap stack."""
    per_env = ", ".join(f"{counts[n].resources}{' resources' if i == 0 else ''} in {n.removeprefix(PIPELINE_PREFIX)}"
                        for i, n in enumerate(_environments(counts)))
    line = f"Per environment (stack `tap-pipeline-<env>`): {per_env}"
    if BOOTSTRAP_STACK in counts:
        line += f"; the state bootstrap stack `{BOOTSTRAP_STACK}` has {counts[BOOTSTRAP_STACK].resources}"
    return line + ".\n"


def resource_table(counts: Mapping[str, StackCounts]) -> str:
    """Every stack's resources, data sources and removed blocks, as a Markdown table."""
    rows = ["| stack | resources | data sources | `removed` blocks (`removed.tf`) |", "| --- | ---: | ---: | ---: |"]
    rows += [f"| `{name}` | {c.resources} | {c.data_sources} | {c.removed_blocks} |" for name, c in counts.items()]
    return "\n".join(rows) + "\n"


def cost_tables(stacks_dir: Path, environment: str = "prod") -> str:
    """``environment``'s and the draft's monthly bill at the usage file's volumes, then the two side by side by
    purpose at COMPARISON_EVENTS: what ``python -m tools cost --env prod --format markdown`` prints."""
    from tools.cost.compare import compare
    from tools.cost.config import load_stacks
    from tools.cost.draft import draft_config
    from tools.cost.model import estimate
    from tools.cost.prices import load_prices
    from tools.cost.render import render, render_comparison
    from tools.cost.usage import load_usage

    usage, prices = load_usage(), load_prices()
    configs = [*load_stacks(stacks_dir, [environment]), draft_config()]
    report = {c.name: [estimate(c, usage, prices, n) for n in usage.events_per_month] for c in configs}
    ours, draft = (estimate(c, usage, prices, COMPARISON_EVENTS) for c in configs)
    return (f"Prices: {prices.region}, checked {prices.checked}; month {usage.months_in_operation:g} of operation; "
            f"{usage.average_record_bytes:g}-byte records, {usage.malformed_share:.0%} malformed.\n\n"
            + render(report, markdown=True) + "\n" + render_comparison(compare(ours, draft), markdown=True))


def _commands(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Each subcommand of ``parser`` and its one-line help."""
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return {choice.dest: choice.help or "" for choice in action._choices_actions}
    return {}


def make_aliases(makefile: Path = PROJECT_ROOT / "Makefile") -> dict[str, list[str]]:
    """Each operator command and the make targets whose recipe runs it (``$(PY) -m tools <command>``)."""
    aliases: dict[str, list[str]] = {}
    target = None
    for line in makefile.read_text().splitlines():
        header = re.match(r"^([a-z][\w-]*):", line)
        if header:
            target = header.group(1)
        command = re.search(r"-m tools ((?:local )?[a-z-]+)", line)
        if not (target and command and line.startswith("\t")) or "@echo" in line:
            continue
        for name in {command.group(1), command.group(1).split()[0]}:  # `local demo` counts for `local` too
            if target not in aliases.get(name, []):
                aliases.setdefault(name, []).append(target)
    return aliases


def operator_commands() -> str:
    """Every ``python -m tools`` command, with its make targets and what it does; the local ones too."""
    from tools import __main__ as tools_cli

    parser = tools_cli.parser()
    aliases = make_aliases()
    rows = ["| command | make | what it does |", "| --- | --- | --- |"]
    for name, help_ in _commands(parser).items():
        make = ", ".join(f"`make {t}`" for t in aliases.get(name, [])) or "–"
        rows.append(f"| `python -m tools {name}` | {make} | {help_} |")
    local = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices["local"]
    rows += ["", "| local command | make | what it does |", "| --- | --- | --- |"]
    for name, help_ in _commands(local).items():
        make = ", ".join(f"`make {t}`" for t in aliases.get(f"local {name}", [])) or "–"
        rows.append(f"| `python -m tools local {name}` | {make} | {help_} |")
    return "\n".join(rows) + "\n"


def collected_tests(root: Path = PROJECT_ROOT) -> int:
    """How many tests ``pytest tests`` collects (parametrized cases each count)."""
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                             "tests"], cwd=root, capture_output=True, text=True, check=False)
    match = re.search(r"^(\d+) tests? collected", result.stdout, re.M)
    if result.returncode != 0 or not match:
        raise RuntimeError(f"pytest could not collect the suite (exit {result.returncode}):\n{result.stdout[-2000:]}")
    return int(match.group(1))


def test_count(collected: int) -> str:
    return (f"`pytest tests` collects **{collected:,}** tests (parametrized cases counted one by one; "
            "`.venv/bin/python -m pytest --collect-only -q tests`).\n")


def configuration_reference() -> str:
    from modules.environments_schema import schema_markdown

    return schema_markdown()


def sample_review(review: Review) -> str:
    """The terminal review of a fresh plan, shortened: the plan's hash elided (it differs on every plan), and of
    the cost lines and of the change lines only the first shown, the others counted."""
    from tools.plans import report

    lines = report.terminal(review).splitlines()
    sections: list[list[str]] = [[]]
    for line in lines:
        if line == "":
            sections.append([])
        sections[-1].append("plan SHA-256: … (the plan file's)" if line.startswith("plan SHA-256: ") else line)
    out: list[str] = []
    for section in sections:
        body = [line for line in section if line]
        if body and body[0].startswith("Cost ("):
            rows = [line for line in body[2:] if not line.lstrip().startswith("total ")]
            totals = [line for line in body[2:] if line.lstrip().startswith("total ")]
            more = [f"  … {len(rows) - 1} more lines"] if len(rows) > 1 else []
            section = [*section[: len(section) - len(body)], *body[:2], *rows[:1], *more, *totals]
        elif body and body[0] == "Changes:":
            changes = body[1:]
            more = [f"  … {len(changes) - 1} more `{report.SYMBOLS.get(review.changes[-1].action, '')}` lines, "
                    "one per resource"] if len(changes) > 1 else []
            section = [*section[: len(section) - len(body)], body[0], *changes[:1], *more]
        out += section
    return "```\n" + "\n".join(out) + "\n```\n"
