"""The installable package: `pip wheel .` builds the library alone, under one import name, and a fresh virtual
environment with only that wheel synthesizes examples/cdktf-python/ from a folder outside the repository.

The fresh environment has no pip and no packages of its own; a .pth file makes the shared .venv's
site-packages importable in it, so that the wheel's dependencies (cdktf, the provider bindings: hundreds of MB)
are found there, offline, and `pip install --no-index` still checks that each declared one is satisfied. The
repository is on no path of it: what it imports as ``tap_pipeline`` is the installed wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from modules.function_code import build_archive
from modules.powertools_layer import locked_version
from tests.support.shared_provider import shared_providers
from tests.unit.test_provider_bindings import FALLBACK_PREFIX, USED_SUBMODULES_AT_MOST
from tools.terraform_cli import run_terraform

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = PROJECT_ROOT / "examples" / "cdktf-python"
STAGES = ("validator", "enricher", "processor")
# Generated or cached, never part of a source tree a build could see.
NOT_SOURCES = shutil.ignore_patterns(".git", "__pycache__", ".pytest_cache", ".ruff_cache", "cdktf.out", ".build",
                                     ".state", ".plans", ".local", "mutants", ".terraform", "build", "*.egg-info")


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip wheel .` of a copy of the project as it is (tests, tools and the node_modules link included), so
    that the build writes nothing into the repository; offline, with the shared environment's setuptools."""
    source = tmp_path_factory.mktemp("source") / "tap-pipeline"
    shutil.copytree(PROJECT_ROOT, source, symlinks=True, ignore=NOT_SOURCES)
    dist = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "--no-index", "-q", "-w",
         str(dist), "."], source)
    [built] = dist.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed; its Python."""
    root = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", "--without-pip", str(root)], root)
    python = root / "bin" / "python"
    site = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], root).stdout.strip()
    Path(site, "shared-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-index", "-q", str(wheel)], root)
    return python


@pytest.fixture(scope="module")
def example_run(venv: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """examples/cdktf-python/ copied out of the repository and run there with the fresh environment's Python
    (``-X importtime`` lists on stderr every module the run imported); the app's folder and that stderr."""
    app = tmp_path_factory.mktemp("user-project") / "orders"
    shutil.copytree(EXAMPLE, app)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_") and k != "PYTHONPATH"}
    env["XDG_CACHE_HOME"] = str(app.parent / "cache")  # where an installed library builds its archives
    return app, run([str(venv), "-X", "importtime", "main.py"], app, env).stderr


@pytest.fixture(scope="module")
def example_output(example_run: tuple[Path, str]) -> Path:
    return example_run[0] / "cdktf.out" / "stacks" / "orders-dev"


def test_the_wheel_holds_the_library_and_the_handlers_under_one_import_name(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    packages = {n.split("/", 1)[0] for n in names}
    assert packages == {"tap_pipeline", "tap_pipeline-1.0.0.dist-info"}, "nothing of tests/, tools/, node_modules"
    library = {n.removeprefix("tap_pipeline/") for n in names if n.startswith("tap_pipeline/")}
    expected = {p.relative_to(PROJECT_ROOT / "modules").as_posix() for p in (PROJECT_ROOT / "modules").glob("*.py")}
    expected |= {p.relative_to(PROJECT_ROOT).as_posix() for p in (PROJECT_ROOT / "handlers").rglob("*.py")
                 if "__pycache__" not in p.parts}
    assert library == expected, "every module and every handler file, and only those"


def test_the_wheel_declares_the_pins_the_project_locks(wheel: Path) -> None:
    metadata = zipfile.ZipFile(wheel).read("tap_pipeline-1.0.0.dist-info/METADATA").decode()
    requires = [Requirement(line.removeprefix("Requires-Dist: ")) for line in metadata.splitlines()
                if line.startswith("Requires-Dist: ")]
    runtime = {r.name: r.specifier for r in requires if r.marker is None}
    pipfile = tomllib.loads((PROJECT_ROOT / "Pipfile").read_text())["packages"]
    assert runtime == {name: SpecifierSet(pipfile[name]) for name in ("cdktf", "cdktf-cdktf-provider-aws",
                                                                      "constructs", "jsii")}
    [powertools] = [r for r in requires if r.marker is not None]
    assert (powertools.name, str(powertools.specifier), str(powertools.marker)) == (
        "aws-lambda-powertools", f"=={locked_version()}", 'extra == "lambda"')


def test_the_fresh_environment_imports_the_installed_wheel_and_no_generic_name(venv: Path) -> None:
    probe = ("import importlib.util, json, tap_pipeline, tap_pipeline.locations as l; print(json.dumps("
             "[tap_pipeline.__file__, l.INSTALLED, importlib.util.find_spec('modules') is None, "
             "importlib.util.find_spec('handlers') is None]))")
    location, installed, no_modules, no_handlers = json.loads(run([str(venv), "-c", probe], venv.parent).stdout)
    assert Path(location).is_relative_to(venv.parent.parent) and installed
    assert no_modules and no_handlers


def test_the_example_synthesizes_from_outside_the_repository(example_output: Path) -> None:
    document = json.loads((example_output / "cdk.tf.json").read_text())
    [provider] = document["provider"]["aws"]
    assert (provider["region"], provider["allowed_account_ids"]) == ("eu-west-1", ["444455556666"])
    assert document["terraform"]["backend"]["s3"]["bucket"] == "acme-terraform-state"
    names = sorted(f["function_name"] for f in document["resource"]["aws_lambda_function"].values())
    assert names == ["orders-enricher-dev", "orders-processor-dev", "orders-validator-dev"]
    assert set(document["output"]) == {"ingest_queue_url", "table_arn"}
    [parameter] = document["data"]["aws_ssm_parameter"].values()
    assert parameter["name"].endswith(f"/{locked_version()}"), "the layer of the Powertools version the wheel pins"
    assert (example_output / "versions.tf").is_file() and "removed {" in (example_output / "removed.tf").read_text()


def test_the_example_loads_only_the_provider_submodules_it_uses(example_run: tuple[Path, str]) -> None:
    stderr = example_run[1]
    # -X importtime's lines: "import time: <self us> | <cumulative us> | <indented module name>".
    imported = {line.rsplit("|", 1)[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")}
    submodules = {name for name in imported if name.startswith("cdktf_cdktf_provider_aws.")}
    assert "cdktf_cdktf_provider_aws.provider" in submodules, "the list names what the run imported"
    # The bindings ship over 2,000 submodules; their root import loads them all.
    assert len(submodules) <= USED_SUBMODULES_AT_MOST, f"{len(submodules)} submodules: the root import ran"
    assert FALLBACK_PREFIX not in stderr, "the fast path fell back"


@pytest.mark.parametrize("stage", STAGES)
def test_each_archive_holds_its_handlers_as_lambda_imports_them(example_output: Path, stage: str,
                                                                 tmp_path: Path) -> None:
    [archive] = example_output.glob(f"assets/pipeline_{stage}_code_*/*/{stage}.zip")
    names = zipfile.ZipFile(archive).namelist()
    assert {"handlers/__init__.py", f"handlers/{stage}/app.py", "handlers/shared/contract.py"} <= set(names)
    document = json.loads((example_output / "cdk.tf.json").read_text())
    [function] = [f for f in document["resource"]["aws_lambda_function"].values()
                  if f["function_name"] == f"orders-{stage}-dev"]
    assert function["handler"] == f"handlers.{stage}.app.handler"
    # The same bytes as the archive built from the repository: the installed handlers are the repository's.
    assert archive.read_bytes() == build_archive(stage, build_dir=tmp_path).path.read_bytes()


def test_terraform_validates_the_example(example_output: Path) -> None:
    run_terraform(["init", "-backend=false", "-input=false", "-no-color"], example_output)
    assert "Success" in shared_providers().run_terraform(["validate", "-no-color"], example_output).stdout
