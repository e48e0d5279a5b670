"""The provider bindings' fast path: same synth output as the standard import, and a safe fallback.

The expensive checks run the whole app in child processes (a process can import
the bindings only one way); the mechanism itself is checked in-process on a
small fake package, which needs no jsii runtime.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from modules import provider_bindings
from modules.environments_file import with_account_for_reading
from modules.settings import SettingsError
from tests.support.environments import FIXTURE_FILE

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Independent of the code under test: the pinned bindings ship this many resource submodules (`ls | wc -l`).
ALL_SUBMODULES_AT_LEAST = 2000
# The app imports 36 submodules (grep of modules/; CodeDeploy's three since gradual releases), which load a few
# more; headroom, far below a full import.
USED_SUBMODULES_AT_MOST = 80
FALLBACK_PREFIX = "warning: provider bindings fast path unavailable ("
STACKS = ("tap-pipeline-state", "tap-pipeline-local", "tap-pipeline-dev", "tap-pipeline-staging",
          "tap-pipeline-prod", "tap-pipeline-pr42")

# Runs in a child process: optionally breaks the layout assumption, synthesizes every stack, reports how.
CHILD = """
import json, sys
from modules import provider_bindings
if sys.argv[2] == "broken-layout":
    provider_bindings.ASSEMBLY_SUBMODULE = "_jsii_moved_elsewhere"
import main
main.build_app(outdir=sys.argv[1]).synth()
loaded = [m for m in sys.modules if m.startswith("cdktf_cdktf_provider_aws.")]
print(json.dumps({"mode": provider_bindings.load_provider_bindings(), "submodules": len(loaded)}))
"""


@dataclass(frozen=True)
class ChildSynth:
    outdir: Path
    mode: str
    submodules: int
    stderr: str

    def files(self) -> dict[str, bytes]:
        return {str(p.relative_to(self.outdir)): p.read_bytes() for p in sorted(self.outdir.rglob("*")) if p.is_file()}


def _child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_") and k != "ENVIRONMENT_SUFFIX"}
    env = with_account_for_reading(env)
    env["ENVIRONMENT_SUFFIX"] = "pr42"
    env["TAP_ENVIRONMENTS_FILE"] = str(FIXTURE_FILE)
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def child_synths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ChildSynth]:
    """Every stack synthesized three ways, concurrently: fast path, forced standard import, broken layout."""
    runs = {
        "fast": ("intact", _child_env()),
        "standard": ("intact", _child_env(TAP_STANDARD_PROVIDER_IMPORT="1")),
        "fallback": ("broken-layout", _child_env()),
    }
    started = {}
    for name, (layout, env) in runs.items():
        outdir = tmp_path_factory.mktemp(f"synth-{name}")
        started[name] = (outdir, subprocess.Popen([sys.executable, "-c", CHILD, str(outdir), layout], cwd=PROJECT_ROOT,
                                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = {}
    for name, (outdir, process) in started.items():
        stdout, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, f"{name} synth failed:\n{stderr}"
        report = json.loads(stdout.strip().splitlines()[-1])
        results[name] = ChildSynth(outdir, report["mode"], report["submodules"], stderr)
    return results


def test_fast_path_imports_only_the_submodules_the_app_uses(child_synths: dict[str, ChildSynth]) -> None:
    fast = child_synths["fast"]
    assert fast.mode == "fast"
    assert 0 < fast.submodules <= USED_SUBMODULES_AT_MOST
    assert "warning" not in fast.stderr


def test_switch_forces_the_standard_root_import(child_synths: dict[str, ChildSynth]) -> None:
    standard = child_synths["standard"]
    assert standard.mode == "standard"
    assert standard.submodules >= ALL_SUBMODULES_AT_LEAST
    assert "warning" not in standard.stderr


def test_fast_and_standard_synth_are_byte_identical(child_synths: dict[str, ChildSynth]) -> None:
    fast, standard = child_synths["fast"].files(), child_synths["standard"].files()
    # Guard against comparing two empty or partial outputs.
    assert "manifest.json" in fast
    for stack in STACKS:
        assert f"stacks/{stack}/cdk.tf.json" in fast
    assert sum(1 for name in fast if name.endswith(".zip")) == 15, "three function packages per pipeline stack"
    assert sorted(fast) == sorted(standard)
    differing = [name for name in fast if fast[name] != standard[name]]
    assert differing == []


def test_broken_layout_falls_back_with_one_warning_line(child_synths: dict[str, ChildSynth]) -> None:
    fallback = child_synths["fallback"]
    warnings = [line for line in fallback.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1, fallback.stderr
    assert warnings[0].startswith(FALLBACK_PREFIX)
    assert "_jsii_moved_elsewhere" in warnings[0], "the warning says why"
    assert fallback.mode == "standard"
    # The half-installed package object must be gone, or the "standard" import would return it.
    assert fallback.submodules >= ALL_SUBMODULES_AT_LEAST
    assert fallback.files() == child_synths["fast"].files()


def test_the_test_session_itself_uses_the_fast_path() -> None:
    # tests/conftest.py loads them before any test module (which may import constructs) is collected.
    assert "cdktf_cdktf_provider_aws" in sys.modules
    assert provider_bindings.load_provider_bindings() == "fast"
    loaded = [m for m in sys.modules if m.startswith("cdktf_cdktf_provider_aws.")]
    assert len(loaded) <= USED_SUBMODULES_AT_MOST


@pytest.mark.parametrize("value", ["yes", "true", "2", "standard"])
def test_switch_rejects_values_other_than_0_and_1(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("TAP_STANDARD_PROVIDER_IMPORT", value)
    with pytest.raises(SettingsError, match=rf"TAP_STANDARD_PROVIDER_IMPORT='{value}' is invalid: allowed 1 .* 0 or"):
        provider_bindings.load_provider_bindings()


@pytest.mark.parametrize("value", ["", "0", "1", " 1 "])
def test_switch_accepts_0_1_and_empty(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("TAP_STANDARD_PROVIDER_IMPORT", value)
    # Already loaded in this session: only reports how, whatever the switch says now.
    assert provider_bindings.load_provider_bindings() == "fast"


FAKE = "fake_provider_bindings_pkg"


@pytest.fixture
def fake_bindings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A package shaped like the bindings: a root ``__init__`` that marks it ran, ``_jsii`` and one submodule."""
    root = tmp_path / FAKE
    (root / "_jsii").mkdir(parents=True)
    (root / "queue").mkdir()
    (root / "__init__.py").write_text("ROOT_INIT_RAN = True\n")
    (root / "queue" / "__init__.py").write_text("from .._jsii import *\nQUEUE = 'queue'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(provider_bindings, "PACKAGE", FAKE)
    monkeypatch.setattr(provider_bindings, "_fast_package", provider_bindings._fast_package)
    monkeypatch.delenv("TAP_STANDARD_PROVIDER_IMPORT", raising=False)
    importlib.invalidate_caches()
    yield root
    for name in [m for m in sys.modules if m == FAKE or m.startswith(f"{FAKE}.")]:
        del sys.modules[name]


def test_fake_package_with_assembly_module_loads_without_its_root_init(fake_bindings: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    (fake_bindings / "_jsii" / "__init__.py").write_text("__jsii_assembly__ = 'loaded'\n")
    assert provider_bindings.load_provider_bindings() == "fast"
    package = sys.modules[FAKE]
    assert not hasattr(package, "ROOT_INIT_RAN")
    assert package.__path__ == [str(fake_bindings)]
    assert f"{FAKE}.queue" not in sys.modules
    assert package.queue.QUEUE == "queue", "attribute access imports the submodule, as the root import would"
    with pytest.raises(AttributeError, match=f"module '{FAKE}' has no attribute 'topic'"):
        _ = package.topic
    assert provider_bindings.load_provider_bindings() == "fast", "a second call only reports"
    assert capsys.readouterr().err == ""


def test_fake_package_without_assembly_falls_back_to_its_root_init(fake_bindings: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    (fake_bindings / "_jsii" / "__init__.py").write_text("# the assembly moved elsewhere\n")
    assert provider_bindings.load_provider_bindings() == "standard"
    assert sys.modules[FAKE].ROOT_INIT_RAN is True
    err = capsys.readouterr().err
    assert err == (f"{FALLBACK_PREFIX}{FAKE}._jsii does not load the jsii assembly: no __jsii_assembly__); "
                   "using the standard import (~10 s slower)\n")


def test_forced_standard_import_runs_the_root_init(fake_bindings: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    (fake_bindings / "_jsii" / "__init__.py").write_text("__jsii_assembly__ = 'loaded'\n")
    monkeypatch.setenv("TAP_STANDARD_PROVIDER_IMPORT", "1")
    assert provider_bindings.load_provider_bindings() == "standard"
    assert sys.modules[FAKE].ROOT_INIT_RAN is True
    assert capsys.readouterr().err == ""


def test_module_instead_of_package_falls_back(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / f"{FAKE}_flat.py").write_text("ROOT_INIT_RAN = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(provider_bindings, "PACKAGE", f"{FAKE}_flat")
    monkeypatch.delenv("TAP_STANDARD_PROVIDER_IMPORT", raising=False)
    try:
        assert provider_bindings.load_provider_bindings() == "standard"
        assert sys.modules[f"{FAKE}_flat"].ROOT_INIT_RAN is True
    finally:
        sys.modules.pop(f"{FAKE}_flat", None)
    assert f"({FAKE}_flat is not installed as a package)" in capsys.readouterr().err
