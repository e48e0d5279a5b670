"""A copied init (tests/support/shared_init.py) is what ``terraform init`` writes, and is only used where init would
read the same settings."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.shared_init import COPIED, SharedInits, settings_key
from tools.terraform_cli import run_terraform

ARGS = ["init", "-input=false", "-no-color"]
STACK = {
    "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": "5.100.0"}},
                  "backend": {"local": {"path": "offline.tfstate"}}},
    "provider": {"aws": [{"region": "us-east-1"}]},
    "resource": {"aws_sqs_queue": {"q": {"name": "one"}}},
}


def stack_folder(root: Path, name: str, document: dict[str, Any] = STACK, **files: str) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "cdk.tf.json").write_text(json.dumps(document))
    for file_name, text in files.items():
        (folder / file_name.replace("_tf", ".tf")).write_text(text)
    return folder


class CountingTerraform:
    """Stands in for Terraform's init: writes a lock file and a .terraform folder, and counts the runs."""

    def __init__(self, returncode: int = 0) -> None:
        self.folders: list[Path] = []
        self.returncode = returncode

    def __call__(self, args: list[str], cwd: Path | str, **_: Any) -> subprocess.CompletedProcess[str]:
        self.folders.append(Path(cwd))
        (Path(cwd) / ".terraform").mkdir()
        (Path(cwd) / ".terraform.lock.hcl").write_text(f"lock written in {Path(cwd).name}\n")
        return subprocess.CompletedProcess(args, self.returncode, "", "")


@pytest.fixture
def inits() -> Any:
    shared = SharedInits(CountingTerraform())
    yield shared
    shared.close()


def test_a_copied_init_is_what_terraform_writes_there(tmp_path: Path) -> None:
    """With no lock file in the folder, and with the one the first init wrote (as a copy of an initialized stack
    folder holds it): the copy is what Terraform's own init writes there."""
    second = {**STACK, "resource": {"aws_sqs_queue": {"q": {"name": "two"}}}}
    cases = {locked: tuple(stack_folder(tmp_path, f"{whose}-{locked}", second) for whose in ("copied", "own"))
             for locked in ("no-lock", "first-lock")}
    shared = SharedInits()
    try:
        first = stack_folder(tmp_path, "first")
        shared.init(ARGS, first)
        for folder in cases["first-lock"]:
            shutil.copy2(first / ".terraform.lock.hcl", folder / ".terraform.lock.hcl")
        for copied, _ in cases.values():
            assert shared.init(ARGS, copied).stdout == COPIED, "the second folder's settings are the first's"
    finally:
        shared.close()

    def written(folder: Path) -> dict[str, Any]:
        return {str(p.relative_to(folder)): (str(p.readlink()) if p.is_symlink() else p.read_bytes())
                for p in sorted((folder / ".terraform").rglob("*")) if p.is_symlink() or p.is_file()}

    for locked, (copied, own) in cases.items():
        run_terraform(ARGS, own)
        assert written(copied) == written(own) and written(own), f"{locked}: the provider link and the backend record"
        assert (copied / ".terraform.lock.hcl").read_bytes() == (own / ".terraform.lock.hcl").read_bytes(), locked
    validated = run_terraform(["validate", "-no-color"], cases["first-lock"][0], check=False)
    assert validated.returncode == 0, validated.stdout + validated.stderr


def test_the_same_settings_are_initialized_once(inits: SharedInits, tmp_path: Path) -> None:
    older, newer = 'terraform { required_version = ">= 1.10" }\n', 'terraform { required_version = ">= 1.11" }\n'
    first, second = stack_folder(tmp_path, "a", versions_tf=older), stack_folder(tmp_path, "b", versions_tf=newer)
    third = stack_folder(tmp_path, "c", versions_tf=newer)
    for folder in (first, second, third):
        inits.init(ARGS, folder)
    assert inits.run_terraform.folders == [first, second], "versions.tf is read by init: b differs from a"
    assert (third / ".terraform.lock.hcl").read_text() == "lock written in b\n"


@pytest.mark.parametrize("change", [
    {"terraform": {**STACK["terraform"], "backend": {"local": {"path": "other.tfstate"}}}},
    {"resource": {"random_id": {"r": {}}}},
    {"data": {"archive_file": {"a": {}}}},
    {"provider": {"aws": [{"region": "eu-west-1"}]}},
])
def test_settings_init_reads_make_another_key(tmp_path: Path, change: dict[str, Any]) -> None:
    base = settings_key(ARGS, stack_folder(tmp_path, "base"))
    assert settings_key(ARGS, stack_folder(tmp_path, "changed", {**STACK, **change})) != base
    assert settings_key([*ARGS, "-upgrade"], stack_folder(tmp_path, "args")) != base


def test_resources_of_the_same_providers_make_the_same_key(tmp_path: Path) -> None:
    other = {**STACK, "resource": {"aws_sqs_queue": {"q": {"name": "x", "delay_seconds": 5}},
                                   "aws_sns_topic": {"t": {}}}}
    assert settings_key(ARGS, stack_folder(tmp_path, "a")) == settings_key(ARGS, stack_folder(tmp_path, "b", other))


def test_a_module_call_is_always_initialized_by_terraform(inits: SharedInits, tmp_path: Path) -> None:
    calling = {**STACK, "module": {"m": {"source": "./m"}}}
    folders = [stack_folder(tmp_path, name, calling) for name in ("a", "b")]
    for folder in folders:
        inits.init(ARGS, folder)
    assert inits.run_terraform.folders == folders


def test_a_failed_init_is_not_kept(tmp_path: Path) -> None:
    inits = SharedInits(CountingTerraform(returncode=1))
    try:
        folders = [stack_folder(tmp_path, name) for name in ("a", "b")]
        for folder in folders:
            inits.init(ARGS, folder)
        assert inits.run_terraform.folders == folders
    finally:
        inits.close()


def test_a_folder_holding_the_lock_file_the_kept_init_wrote_gets_the_copy(inits: SharedInits,
                                                                          tmp_path: Path) -> None:
    first, copied = stack_folder(tmp_path, "a"), stack_folder(tmp_path, "b")
    inits.init(ARGS, first)
    (copied / ".terraform.lock.hcl").write_text("lock written in a\n")  # as a copy of an initialized stack holds
    assert inits.init(ARGS, copied).stdout == COPIED
    assert inits.run_terraform.folders == [first]
    assert (copied / ".terraform").is_dir()


def test_a_folder_with_a_lock_file_and_no_kept_lock_is_initialized_by_terraform(tmp_path: Path) -> None:
    class NoLock(CountingTerraform):
        def __call__(self, args: list[str], cwd: Path | str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
            result = super().__call__(args, cwd, **kwargs)
            (Path(cwd) / ".terraform.lock.hcl").unlink()  # an init that installs no provider writes none
            return result

    inits = SharedInits(NoLock())
    try:
        first, locked = stack_folder(tmp_path, "a"), stack_folder(tmp_path, "b")
        (locked / ".terraform.lock.hcl").write_text("a lock of its own\n")
        for folder in (first, locked):
            inits.init(ARGS, folder)
        assert inits.run_terraform.folders == [first, locked]
    finally:
        inits.close()


def test_a_folder_initialized_before_is_initialized_by_terraform_again(inits: SharedInits, tmp_path: Path) -> None:
    first, again = stack_folder(tmp_path, "a"), stack_folder(tmp_path, "b")
    (again / ".terraform.lock.hcl").write_text("an older lock\n")
    for folder in (first, again):
        inits.init(ARGS, folder)
    assert inits.run_terraform.folders == [first, again]
