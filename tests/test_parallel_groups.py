"""How `make test` spreads the suite over pytest-xdist workers: XDIST_GROUPS, the order the scopes are handed
out in, and shared_once."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import (
    SCHEDULED_FIRST,
    SPREAD_OVER_WORKERS,
    XDIST_GROUPS,
    hands_tests_to_workers,
    scheduling_order,
    xdist_group_of,
)
from tests.support.shared_once import shared_file, shared_folder

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", sorted({*XDIST_GROUPS, *SPREAD_OVER_WORKERS, *SCHEDULED_FIRST}))
def test_every_listed_path_names_an_existing_test_file_or_folder(path: str) -> None:
    # A renamed file would silently leave its group, or stop spreading over the workers.
    target = PROJECT_ROOT / path
    assert target.is_dir() if path.endswith("/") else target.is_file(), f"{path} does not exist"


def test_each_e2e_module_deploys_on_a_worker_of_its_own() -> None:
    e2e_modules = sorted(p.relative_to(PROJECT_ROOT).as_posix() for p in (PROJECT_ROOT / "tests/e2e").glob("test_*.py"))
    groups = [xdist_group_of(module) for module in e2e_modules]
    assert None not in groups and len(set(groups)) == len(e2e_modules) == 2, dict(zip(e2e_modules, groups, strict=True))


@pytest.mark.parametrize(("path", "group"), [
    ("tests/integration/test_checkov.py", "terraform-init"),
    # a folder prefix matches whole folder names only; anything else is a group of its own module
    ("tests/integration_extra/test_x.py", "tests/integration_extra/test_x.py"),
    ("tests/unit/test_settings.py", "tests/unit/test_settings.py"),
    ("tests/tools/plans/test_reviewed_plans.py", None),
    ("tests/tools/plans/test_reviewed_plans_more.py", "tests/tools/plans/test_reviewed_plans_more.py"),
])
def test_a_module_is_its_own_group_unless_a_folder_groups_it_or_it_spreads(path: str, group: str | None) -> None:
    assert xdist_group_of(path) == group


def test_make_test_runs_the_suite_on_xdist_workers_by_group() -> None:
    # Outside any calling make, and without a TEST_WORKERS override, so that the default is what is printed.
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES", "TEST_WORKERS")}
    result = subprocess.run(["make", "-n", "--no-print-directory", "test"], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, check=True)
    pytest_line = result.stdout.strip().splitlines()[-1]
    # --no-loadscope-reorder: xdist hands the scopes out in the order of the collection (scheduling_order).
    assert "-m pytest tests -n 4 --dist loadgroup --no-loadscope-reorder" in pytest_line, result.stdout


def test_the_end_to_end_chains_are_handed_out_first_in_the_order_listed() -> None:
    scopes = [("tests/unit/test_a.py", "a"), ("tests/e2e/test_lifecycle.py", "life"),
              ("tests/unit/test_b.py", "b"), ("tests/e2e/test_traffic.py", "traffic")]
    assert [scopes[i][1] for i in scheduling_order(scopes)] == ["traffic", "life", "a", "b"]
    assert SCHEDULED_FIRST == ("tests/e2e/test_traffic.py", "tests/e2e/test_lifecycle.py"), "the longer first"


def test_then_scopes_with_more_tests_first_each_kept_whole_in_its_order() -> None:
    # groups "g" (3 tests), "x" and "y" (2 each, their tests interleaved in the collection), single-test scopes
    scopes = [("tests/u/test_1.py", "one"), ("tests/u/test_g1.py", "g"), ("tests/u/test_x1.py", "x"),
              ("tests/u/test_y1.py", "y"), ("tests/u/test_g2.py", "g"), ("tests/u/test_y2.py", "y"),
              ("tests/u/test_x2.py", "x"), ("tests/u/test_2.py", "two"), ("tests/u/test_g2.py", "g")]
    assert [scopes[i][1] for i in scheduling_order(scopes)] == ["g", "g", "g", "x", "x", "y", "y", "one", "two"]
    assert scheduling_order(scopes)[:3] == [1, 4, 8], "a group's tests keep their collection order"


def test_the_end_to_end_tests_lead_this_runs_collection(request: pytest.FixtureRequest) -> None:
    files = [item.path.resolve().relative_to(PROJECT_ROOT).as_posix() for item in request.session.items]
    e2e = [f for f in files if f.startswith("tests/e2e/")]
    if [Path(a).resolve() for a in request.config.args] == [PROJECT_ROOT / "tests"]:
        assert e2e, "the whole suite has end-to-end tests"
    assert files[:len(e2e)] == sorted(e2e, key=SCHEDULED_FIRST.index)


class FakeTempPathFactory:
    """The one method shared_file uses of pytest's TempPathFactory."""

    def __init__(self, base: Path) -> None:
        self.base = base

    def getbasetemp(self) -> Path:
        return self.base


def make_slowly(path: Path) -> None:
    # Appends to a log beside the file, so that the test counts the makers; sleeps so that racers overlap.
    with (path.parent / "makers.log").open("a") as log:
        log.write("made\n")
    time.sleep(0.5)
    path.write_text("state")


def race(base: str) -> str:
    return shared_file(FakeTempPathFactory(Path(base)), "state.json", make_slowly).read_text()


def test_a_shared_file_is_made_once_by_racing_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")  # the shared folder is then the base's parent
    worker_base = tmp_path / "popen-gw0"
    worker_base.mkdir()
    with multiprocessing.get_context("fork").Pool(3) as pool:
        assert pool.map(race, [str(worker_base)] * 3) == ["state"] * 3
    assert (tmp_path / "makers.log").read_text() == "made\n"
    assert (tmp_path / "state.json").is_file() and not (worker_base / "state.json").exists()


def test_a_failed_make_leaves_nothing_and_the_next_caller_makes_it(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)

    def fail(path: Path) -> None:
        path.write_text("half")
        raise RuntimeError("terraform plan failed")

    with pytest.raises(RuntimeError, match="terraform plan failed"):
        shared_file(FakeTempPathFactory(tmp_path), "state.json", fail)
    assert not (tmp_path / "state.json").exists()
    assert shared_file(FakeTempPathFactory(tmp_path), "state.json", make_slowly).read_text() == "state"


def test_a_shared_folder_is_made_once_and_what_a_failed_maker_left_is_not_kept(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    makers: list[Path] = []

    def fail(path: Path) -> None:
        (path / "half").mkdir(parents=True)
        raise RuntimeError("terraform plan failed")

    def make(path: Path) -> None:
        makers.append(path)
        assert not path.exists(), "the failed maker's folder was handed to the next"
        (path / "plan").mkdir(parents=True)

    with pytest.raises(RuntimeError, match="terraform plan failed"):
        shared_folder(FakeTempPathFactory(tmp_path), "fresh", fail)
    assert not (tmp_path / "fresh").exists()
    made = shared_folder(FakeTempPathFactory(tmp_path), "fresh", make)
    assert shared_folder(FakeTempPathFactory(tmp_path), "fresh", make) == made == tmp_path / "fresh"
    assert [p.name for p in made.iterdir()] == ["plan"] and len(makers) == 1


def test_groups_are_marked_before_xdist_reads_the_marks() -> None:
    # xdist's collection hook turns xdist_group marks into "@group" scopes; hook order among plain
    # hookimpls follows registration, which varied between runs (a 12:54 run deployed each e2e module
    # up to four times). tryfirst makes the marks be there first, whatever the order.
    import tests.conftest as root_conftest

    assert root_conftest.pytest_collection_modifyitems.pytest_impl.get("tryfirst") is True


class FakeConfig:
    """The options hands_tests_to_workers reads, as xdist leaves them after parsing the command line."""

    def __init__(self, *, dist: str, tx: list[str], collectonly: bool = False, worker: bool = False) -> None:
        self.options = {"dist": dist, "tx": tx, "collectonly": collectonly}
        if worker:
            self.workerinput = {"workerid": "gw0"}

    def getoption(self, name: str, default: object = None) -> object:
        return self.options.get(name, default)


@pytest.mark.parametrize(("config", "controller"), [
    (FakeConfig(dist="loadgroup", tx=["popen"] * 4), True),  # make test's controller
    (FakeConfig(dist="loadgroup", tx=["popen"] * 4, worker=True), False),
    (FakeConfig(dist="no", tx=[]), False),  # -n 0, or no -n at all
    (FakeConfig(dist="loadgroup", tx=["popen"] * 4, collectonly=True), False),  # the controller collects
], ids=["controller", "worker", "no-workers", "collect-only"])
def test_only_xdists_controller_is_told_apart(config: FakeConfig, controller: bool) -> None:
    assert hands_tests_to_workers(config) is controller


def _children(pid: int) -> list[int]:
    return [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()]


def test_the_controller_starts_no_jsii_runtime(request: pytest.FixtureRequest) -> None:
    """The controller of this run (the worker's parent) has no node child: it loads no provider bindings."""
    if not hasattr(request.config, "workerinput"):
        pytest.skip("not run by a pytest-xdist worker: there is no controller")
    if not Path(f"/proc/{os.getppid()}/task").is_dir():
        pytest.skip("needs /proc (Linux) to list the controller's children")
    commands = [Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")[0] for child in _children(os.getppid())]
    assert commands and not [c for c in commands if c.endswith(b"node")], commands
    assert any(c.endswith(b"node") for c in (Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")[0]
                                               for child in _children(os.getpid()))), "a worker does run jsii"
