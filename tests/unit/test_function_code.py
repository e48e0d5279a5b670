"""Deterministic function archives."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from modules.function_code import HANDLERS_DIR, build_archive


@pytest.mark.parametrize("stage", ["validator", "enricher", "processor"])
def test_archive_holds_the_shared_code_and_only_its_own_stage(tmp_path: Path, stage: str) -> None:
    archive = build_archive(stage, build_dir=tmp_path)
    names = zipfile.ZipFile(archive.path).namelist()
    assert "handlers/__init__.py" in names and f"handlers/{stage}/app.py" in names
    assert any(n.startswith("handlers/shared/") for n in names)
    others = {"validator", "enricher", "processor"} - {stage}
    assert not [n for n in names if n.split("/")[1] in others], "a stage must not ship another stage's code"
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_unchanged_code_gives_a_byte_identical_archive(tmp_path: Path) -> None:
    first = build_archive("validator", build_dir=tmp_path / "a")
    second = build_archive("validator", build_dir=tmp_path / "b")
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.sha256_base64 == second.sha256_base64


def test_changed_code_changes_the_hash(tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "handlers"
    shutil.copytree(HANDLERS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = build_archive("processor", handlers_dir=copy, build_dir=tmp_path / "a")
    (copy / "shared" / "__init__.py").write_text((copy / "shared" / "__init__.py").read_text() + "\n# changed\n")
    after = build_archive("processor", handlers_dir=copy, build_dir=tmp_path / "b")
    assert before.sha256_base64 != after.sha256_base64


def test_a_stage_without_handler_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no handler for stage 'nope'"):
        build_archive("nope", build_dir=tmp_path)
