"""Mutation score per file from mutmut's results: ``python -m tests.mutation.report [--fail-under 90]``.

Reads the ``mutants/**/*.py.meta`` files ``mutmut run`` leaves (mutmut 3 has ``mutmut results``, one line per
mutant, and ``mutmut export-cicd-stats``, totals only; neither gives a per-file score) and classifies each
mutant with mutmut's own exit-code table. Mutants listed in ``tests/mutation/equivalent_mutants.md`` (no
behaviour can tell them from the original; each line gives the reason) are left out of the score.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EQUIVALENTS = Path(__file__).with_name("equivalent_mutants.md")
COLUMNS = ("killed", "survived", "timeout", "no tests", "equivalent", "other")


def equivalent_mutants(path: Path = EQUIVALENTS) -> set[str]:
    """The mutant names listed (in backquotes, first on a list line) in the equivalents file."""
    return set(re.findall(r"^- `([\w.]+__mutmut_\d+)`", path.read_text(), flags=re.MULTILINE))


def counts_by_file(mutants_dir: Path, equivalent: set[str]) -> dict[str, Counter[str]]:
    """source file -> Counter of statuses (killed / survived / timeout / no tests / equivalent / other)."""
    result: dict[str, Counter[str]] = {}
    for meta in sorted(mutants_dir.rglob("*.py.meta")):
        source = meta.relative_to(mutants_dir).as_posix().removesuffix(".meta")
        counts: Counter[str] = Counter()
        for name, exit_code in json.loads(meta.read_text())["exit_code_by_key"].items():
            status = status_by_exit_code[exit_code]
            if name in equivalent and status == "survived":
                status = "equivalent"
            counts[status if status in COLUMNS else "other"] += 1
        if counts:
            result[source] = counts
    return result


def score(counts: Counter[str]) -> float:
    """Killed (timeouts included) over every mutant that is not equivalent, in percent."""
    judged = sum(counts.values()) - counts["equivalent"]
    return 100.0 * (counts["killed"] + counts["timeout"]) / judged if judged else 100.0


def stale_equivalents(mutants_dir: Path, equivalent: set[str]) -> list[str]:
    """Listed equivalents that are not survivors any more (killed now, or gone): the list must shrink."""
    survivors = {
        name
        for meta in mutants_dir.rglob("*.py.meta")
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items()
        if status_by_exit_code[code] == "survived"
    }
    return sorted(equivalent - survivors)


def render(by_file: dict[str, Counter[str]]) -> str:
    """A Markdown table: one row per file, then the total."""
    lines = ["| file | " + " | ".join(COLUMNS) + " | score |", "| --- |" + " ---: |" * (len(COLUMNS) + 1)]
    total: Counter[str] = Counter()
    for source, counts in by_file.items():
        total.update(counts)
        lines.append(f"| `{source}` | " + " | ".join(str(counts[c]) for c in COLUMNS) + f" | {score(counts):.1f} % |")
    lines.append("| total | " + " | ".join(str(total[c]) for c in COLUMNS) + f" | {score(total):.1f} % |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=Path, default=PROJECT_ROOT / "mutants", help="mutmut's output folder")
    parser.add_argument("--fail-under", type=float, default=None, help="exit 1 if a file scores below this %%")
    args = parser.parse_args(argv)
    if not args.mutants.is_dir():
        print(f"no {args.mutants}: run `make mutation` (or `mutmut run`) first")
        return 1
    equivalent = equivalent_mutants()
    by_file = counts_by_file(args.mutants, equivalent)
    print(render(by_file))
    status = 0
    stale = stale_equivalents(args.mutants, equivalent)
    if stale:
        print(f"\nlisted as equivalent but not surviving (remove them from {EQUIVALENTS.name}): {stale}")
        status = 1
    if args.fail_under is not None:
        low = [f"{source} {score(c):.1f} %" for source, c in by_file.items() if score(c) < args.fail_under]
        if low:
            print(f"\nbelow {args.fail_under:g} %: {low}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
