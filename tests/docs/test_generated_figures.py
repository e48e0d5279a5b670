"""The documents' computed parts are what `make docs` (python -m tools docs) writes now: a figure that went stale
fails here, and the fix is to run that one command. The sample review is checked with the plans it comes from
(tests/tools/plans/test_reviewed_plans.py), the configuration reference by tests/unit/test_environments_schema.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PREVIEW_SUFFIX
from tests.support.environments import shipped
from tools.docs import cli as docs_cli
from tools.docs import figures
from tools.docs.markers import MarkerError, blocks, replaced

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STALE = "stale: run `make docs` (python -m tools docs)"


def block(name: str) -> str:
    return blocks((PROJECT_ROOT / docs_cli.BLOCKS[name]).read_text())[name]


def test_every_generated_block_is_in_its_document_once() -> None:
    for name, document in docs_cli.BLOCKS.items():
        assert name in blocks((PROJECT_ROOT / document).read_text()), f"{document} has no block {name}"


def test_the_resource_counts_are_the_shipped_stacks(shipped_synth_dir: Path) -> None:
    counts = figures.stack_counts(shipped_synth_dir, shipped().names)
    del counts[f"tap-pipeline-{PREVIEW_SUFFIX}"]  # the session's synth adds a preview; the docs show the file's
    assert block("resource-counts") == figures.resource_summary(counts), STALE
    assert block("resource-table") == figures.resource_table(counts), STALE


def test_the_cost_tables_are_the_cost_model_on_the_shipped_prod(shipped_synth_dir: Path) -> None:
    assert block("cost-tables") == figures.cost_tables(shipped_synth_dir), STALE


def test_the_operator_commands_are_the_command_line_and_the_makefile() -> None:
    assert block("operator-commands") == figures.operator_commands(), STALE


def test_every_operator_command_appears_in_the_docs() -> None:
    from tools import __main__ as tools_cli

    text = block("operator-commands")
    commands = figures._commands(tools_cli.parser())
    assert len(commands) == len(tools_cli.COMMANDS), "one row per registered command"
    assert [name for name in commands if f"| `python -m tools {name}` |" not in text] == []


def test_the_test_count_is_what_this_run_collected(request: pytest.FixtureRequest) -> None:
    from tests.conftest import DESELECTED

    config = request.config
    if [Path(a).resolve() for a in config.args] != [PROJECT_ROOT / "tests"]:
        pytest.skip("the count is checked when the whole suite is collected (`pytest tests`, as make test runs it)")
    collected = len(request.session.items) + DESELECTED[0]
    assert block("test-count") == figures.test_count(collected), STALE


def test_the_resource_summary_names_each_environment_and_the_bootstrap_stack() -> None:
    counts = {"tap-pipeline-local": figures.StackCounts(55, 15, 10),
              "tap-pipeline-prod": figures.StackCounts(61, 16, 10),
              "tap-pipeline-state": figures.StackCounts(10, 2, 0), "tap-pipeline-ci": figures.StackCounts(9, 3, 0)}
    assert figures.resource_summary(counts) == (
        "Per environment (stack `tap-pipeline-<env>`): 55 resources in local, 61 in prod; the state bootstrap stack "
        "`tap-pipeline-state` has 10.\n")


def test_the_make_aliases_come_from_the_recipes_not_the_help_text(tmp_path: Path) -> None:
    makefile = tmp_path / "Makefile"
    makefile.write_text("help:\n\t@echo \"make up  (python -m tools local --help)\"\n\ndemo: setup\n"
                        "\t$(PY) -m tools local demo $(ARGS)\n\nplan: setup\n\t$(PY) -m tools plan --env $(ENV)\n")
    assert figures.make_aliases(makefile) == {"local demo": ["demo"], "local": ["demo"], "plan": ["plan"]}


def test_a_block_is_replaced_between_its_markers_and_nothing_else_changes() -> None:
    text = ("before\n<!-- generated: a (python -m tools docs) -->\nold\n<!-- end generated: a -->\n"
            "<!-- generated: b (python -m tools docs) -->\nkept\n<!-- end generated: b -->\nafter\n")
    assert replaced(text, {"a": "new"}) == text.replace("old", "new")
    assert blocks(replaced(text, {"a": "new"})) == {"a": "new\n", "b": "kept\n"}


def test_a_block_without_its_marker_is_an_error_naming_it() -> None:
    with pytest.raises(MarkerError, match="no marker for c"):
        replaced("text\n", {"c": "x"})


def test_stale_names_each_document_whose_figures_differ(tmp_path: Path) -> None:
    for document in {*docs_cli.BLOCKS.values(), docs_cli.CONFIGURATION_REFERENCE}:
        (tmp_path / document).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / document).write_text((PROJECT_ROOT / document).read_text())
    current = {name: blocks((PROJECT_ROOT / document).read_text())[name] for name, document in docs_cli.BLOCKS.items()}
    reference = (PROJECT_ROOT / docs_cli.CONFIGURATION_REFERENCE).read_text()
    assert docs_cli.stale(tmp_path, current, reference) == []
    assert docs_cli.stale(tmp_path, {**current, "cost-tables": "other\n"}, reference + "x") == [
        "docs/cost.md", docs_cli.CONFIGURATION_REFERENCE]
