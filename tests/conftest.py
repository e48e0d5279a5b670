"""Session-wide fixtures: the app is synthesized once per session (importing the provider bindings takes >10 s,
hashicorp/terraform-cdk#3753)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from modules.environments_file import (
    ACCOUNT_ID_VARIABLE,
    ALARM_EMAIL_VARIABLE,
    EXAMPLE_ACCOUNT_ID,
    EnvironmentsFile,
)
from modules.provider_bindings import load_provider_bindings
from modules.runtime_env import silence_node_eol_banner
from tests.support.environments import FIXTURE, shipped
from tests.support.shared_once import shared_file, shared_folder
from tools.policy.stack_json import StackJson
from tools.terraform_cli import run_terraform

silence_node_eol_banner()


def hands_tests_to_workers(config: pytest.Config) -> bool:
    """Whether this process is pytest-xdist's controller, which collects and runs no test itself: a distributed
    run (xdist's own test: a dist mode and workers to send to) and not a worker, nor ``--collect-only`` (which
    xdist leaves to the controller)."""
    return (not hasattr(config, "workerinput") and not config.getoption("collectonly")
            and config.getoption("dist", "no") != "no" and bool(config.getoption("tx", None)))


def pytest_configure(config: pytest.Config) -> None:
    # Before any test module (which may import constructs) is collected. Not in xdist's controller: its jsii
    # runtime would cost about 3 CPU s before the workers are even started.
    if not hands_tests_to_workers(config):
        load_provider_bindings()

# The S3-backed environments' account and staging's and prod's alarm subscriber in every test, and in the
# subprocesses the tests start (main.py, cdktf, the plan tools), unless the caller set them.
TEST_ACCOUNT_ID = EXAMPLE_ACCOUNT_ID
TEST_ALARM_EMAIL = "oncall@example.com"
os.environ.setdefault(ACCOUNT_ID_VARIABLE, TEST_ACCOUNT_ID)
os.environ.setdefault(ALARM_EMAIL_VARIABLE, TEST_ALARM_EMAIL)

PREVIEW_SUFFIX = "pr42"
PIPELINE_ENVIRONMENTS = ("local", "dev", "staging", "prod", PREVIEW_SUFFIX)


def synthesized(outdir: Path, environments: EnvironmentsFile) -> Path:
    """Every stack of ``main.py`` for ``environments``, with a preview environment, into ``outdir``."""
    from main import build_app

    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_") and k != "ENVIRONMENT_SUFFIX"}
    env["ENVIRONMENT_SUFFIX"] = PREVIEW_SUFFIX
    env[ACCOUNT_ID_VARIABLE] = TEST_ACCOUNT_ID
    env[ALARM_EMAIL_VARIABLE] = TEST_ALARM_EMAIL
    build_app(outdir=str(outdir), env=env, environments=environments).synth()
    return outdir / "stacks"


def loaded(synth_dir: Path) -> dict[str, StackJson]:
    return {d.name: StackJson.load(d) for d in sorted(synth_dir.iterdir()) if (d / "cdk.tf.json").is_file()}


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The library tests' environments (tests/fixtures/environments.toml), synthesized once per run; each worker
    gets a copy of its own (tests run terraform init in the stacks' folders)."""
    def synthesize(path: Path) -> None:
        synthesized(path, FIXTURE)

    shared = shared_folder(tmp_path_factory, "fixture-cdktf.out", synthesize)
    own = tmp_path_factory.mktemp("cdktf.out")
    shutil.copytree(shared, own, symlinks=True, dirs_exist_ok=True)
    return own / "stacks"


@pytest.fixture(scope="session")
def provider_schema(synth_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``terraform providers schema -json`` of the providers the stacks require (read once per run, in a
    backend-less folder: a provider process of its own takes seconds to describe its schema)."""
    def read(path: Path) -> None:
        folder = tmp_path_factory.mktemp("schema")
        document = json.loads((synth_dir / "tap-pipeline-dev" / "cdk.tf.json").read_text())
        required = document["terraform"]["required_providers"]
        (folder / "main.tf.json").write_text(json.dumps({"terraform": {"required_providers": required}}))
        run_terraform(["init", "-input=false", "-no-color"], folder)
        path.write_text(run_terraform(["providers", "schema", "-json"], folder).stdout)

    return json.loads(shared_file(tmp_path_factory, "provider-schema.json", read).read_text())


@pytest.fixture(scope="session")
def stacks(synth_dir: Path) -> dict[str, StackJson]:
    """Every synthesized stack by name (``tap-pipeline-<env>`` and ``tap-pipeline-state``)."""
    return loaded(synth_dir)


@pytest.fixture(scope="session")
def pipeline_stacks(stacks: dict[str, StackJson]) -> dict[str, StackJson]:
    """The pipeline stacks, keyed by environment suffix."""
    return {suffix: stacks[f"tap-pipeline-{suffix}"] for suffix in PIPELINE_ENVIRONMENTS}


@pytest.fixture(scope="session")
def shipped_synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped environments.toml synthesized (with the preview): only for the tests of that file (the draft's
    defects, the documents' generated figures), which share one worker (XDIST_GROUPS), so it is built once."""
    return synthesized(tmp_path_factory.mktemp("shipped-cdktf.out"), shipped())


@pytest.fixture(scope="session")
def shipped_stacks(shipped_synth_dir: Path) -> dict[str, StackJson]:
    """The shipped environments.toml's pipeline stacks (with the preview), keyed by suffix."""
    stacks = loaded(shipped_synth_dir)
    return {suffix: stacks[f"tap-pipeline-{suffix}"] for suffix in (*shipped().names, PREVIEW_SUFFIX)}


# `make test` runs pytest-xdist workers (`-n 4 --dist loadgroup --no-loadscope-reorder`), and each group goes
# to one worker, so the module- and session-scoped fixtures its tests share are built once. By default a test
# module is its own group: each e2e module deploys its pipeline on its own emulator, and a module's synth or
# emulator fixture is not rebuilt on every worker that runs one of its tests. The integration tests form one
# group (they share `terraform init` of every stack). The reviewed-plan tests (a fifth of the suite's CPU)
# spread over the workers instead, sharing one fresh and one converged offline `prod` plan through
# tests/support/shared_once.py.
XDIST_GROUPS = {"tests/integration/": "terraform-init", "tests/module/": "terraform-module",
                "tests/policy/test_draft_defects.py": "shipped-stacks",
                "tests/docs/test_generated_figures.py": "shipped-stacks"}
SPREAD_OVER_WORKERS = frozenset({"tests/tools/plans/test_reviewed_plans.py"})


def xdist_group_of(relative_path: str) -> str | None:
    """The xdist group of the test file at ``relative_path`` (from the project root); None: spread its tests."""
    for prefix, group in XDIST_GROUPS.items():
        if relative_path == prefix or (prefix.endswith("/") and relative_path.startswith(prefix)):
            return group
    return None if relative_path in SPREAD_OVER_WORKERS else relative_path


#: Handed out first (the Makefile runs xdist with --no-loadscope-reorder, which keeps this order): the two
#: end-to-end chains, the longest in the suite, each a deployment and its tests on one worker, which mostly
#: wait on the emulator and the provider's timers while the other workers take the rest.
SCHEDULED_FIRST = ("tests/e2e/test_traffic.py", "tests/e2e/test_lifecycle.py")


def scheduling_order(scopes: list[tuple[str, str]]) -> list[int]:
    """The positions of ``scopes`` ((file, xdist scope) of each test, in collection order) in the order to hand
    them out: the files of SCHEDULED_FIRST, then the scopes with more tests first (xdist's own reordering)."""
    sizes: dict[str, int] = {}
    starts: dict[str, int] = {}
    for position, (_, scope) in enumerate(scopes):
        sizes[scope] = sizes.get(scope, 0) + 1
        starts.setdefault(scope, position)

    def rank(position: int) -> tuple[int, int, int, int]:
        path, scope = scopes[position]
        first = SCHEDULED_FIRST.index(path) if path in SCHEDULED_FIRST else len(SCHEDULED_FIRST)
        return first, -sizes[scope], starts[scope], position

    return sorted(range(len(scopes)), key=rank)


def xdist_scope(item: pytest.Item) -> str:
    """The scope xdist's loadgroup schedules a test by: its groups' names joined as xdist joins them, or the test
    alone."""
    names = {str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
             for mark in item.iter_markers("xdist_group")}
    return "_".join(sorted(names)) if names else item.nodeid


# tryfirst: xdist's own hook turns the marks into the scopes it schedules by, and must see them.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(__file__).resolve().parents[1]
    scopes = []
    for item in items:
        path = item.path.resolve().relative_to(root).as_posix()
        group = xdist_group_of(path)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
        scopes.append((path, xdist_scope(item)))
    items[:] = [items[position] for position in scheduling_order(scopes)]


#: How many collected tests a `-k`/`-m` selection left out, so that the docs' test count can be checked on any
#: run of the whole suite (tests/docs/test_generated_figures.py).
DESELECTED: list[int] = [0]


def pytest_deselected(items: list[pytest.Item]) -> None:
    DESELECTED[0] += len(items)
