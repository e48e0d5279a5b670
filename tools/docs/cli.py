"""Write the documents' computed parts again: resource counts, the sample review, the test count, the cost
tables, the configuration reference and the operator commands (make docs). With --check, change nothing and
exit 1 naming each stale part. It synthesizes the shipped environments and plans prod offline, which takes
about a minute.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from tools.docs import figures
from tools.docs.markers import MarkerError, replaced

PROJECT_ROOT = figures.PROJECT_ROOT
#: Every generated block: the document it lives in. The configuration reference is a whole page.
BLOCKS: Mapping[str, str] = {
    "resource-counts": "README.md",
    "resource-table": "docs/architecture.md",
    "sample-review": "docs/deploying.md",
    "cost-tables": "docs/cost.md",
    "test-count": "docs/testing.md",
    "operator-commands": "docs/commands.md",
}
CONFIGURATION_REFERENCE = "docs/configuration-reference.md"


def synthesized(outdir: Path) -> Path:
    """The shipped environments (every stack of ``main.py``) synthesized into ``outdir``; the stacks folder."""
    from main import build_app, environments_file
    from modules.environments_file import with_account_for_reading

    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_") and k != "ENVIRONMENT_SUFFIX"}
    build_app(outdir=str(outdir), env=with_account_for_reading(env), environments=environments_file({})).synth()
    return outdir / "stacks"


def reviewed_fresh_prod(stacks_dir: Path, plans_dir: Path) -> str:
    """The sample review: an offline plan of prod with no prior state, reviewed with checkov."""
    from main import environments_file
    from tools.plans.layout import PlanFolder
    from tools.plans.plan import make_plan
    from tools.plans.review import build_review

    folder = PlanFolder.for_stack("tap-pipeline-prod", plans_dir)
    make_plan(stacks_dir / "tap-pipeline-prod", folder, offline_mode=True)
    return figures.sample_review(build_review(folder, environments=environments_file({})))


def contents(work: Path, say: Callable[[str], None]) -> dict[str, str]:
    """Every block's content, computed now."""
    say("synthesizing the shipped environments")
    stacks_dir = synthesized(work / "cdktf.out")
    from main import environments_file

    counts = figures.stack_counts(stacks_dir, environments_file({}).names)
    say("planning and reviewing prod offline (the sample review)")
    review = reviewed_fresh_prod(stacks_dir, work / "plans")
    say("collecting the test suite (the test count)")
    collected = figures.collected_tests()
    return {
        "resource-counts": figures.resource_summary(counts),
        "resource-table": figures.resource_table(counts),
        "sample-review": review,
        "cost-tables": figures.cost_tables(stacks_dir),
        "test-count": figures.test_count(collected),
        "operator-commands": figures.operator_commands(),
    }


def stale(root: Path, blocks: Mapping[str, str], reference: str) -> list[str]:
    """The documents whose generated parts differ from ``blocks`` and ``reference``; each named once."""
    found = []
    for document in sorted(set(BLOCKS.values())):
        text = (root / document).read_text()
        if replaced(text, {n: c for n, c in blocks.items() if BLOCKS[n] == document}) != text:
            found.append(document)
    if (root / CONFIGURATION_REFERENCE).read_text() != reference:
        found.append(CONFIGURATION_REFERENCE)
    return found


def write(root: Path, blocks: Mapping[str, str], reference: str) -> list[str]:
    """Write every generated part; the documents that changed."""
    changed = stale(root, blocks, reference)
    for document in set(BLOCKS.values()):
        path = root / document
        path.write_text(replaced(path.read_text(), {n: c for n, c in blocks.items() if BLOCKS[n] == document}))
    (root / CONFIGURATION_REFERENCE).write_text(reference)
    return changed


def run(args: argparse.Namespace) -> int:
    def say(text: str) -> None:
        print(f"docs: {text}", file=sys.stderr, flush=True)

    try:
        with tempfile.TemporaryDirectory(prefix="tap-docs-") as work:
            blocks = contents(Path(work), say)
        reference = figures.configuration_reference()
        if args.check:
            outdated = stale(PROJECT_ROOT, blocks, reference)
            for document in outdated:
                print(f"docs: {document} is stale: run `make docs` (python -m tools docs)")
            if not outdated:
                print("docs: every generated part is up to date")
            return 1 if outdated else 0
        changed = write(PROJECT_ROOT, blocks, reference)
    except (MarkerError, RuntimeError) as error:
        print(f"docs: {error}", file=sys.stderr)
        return 2
    print(f"docs: rewrote {', '.join(changed)}" if changed else "docs: nothing changed")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("docs", help="write the documents' computed figures again (make docs)",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 naming each stale document")
    parser.set_defaults(handler=run)
