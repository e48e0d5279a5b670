"""Deterministic function archives."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from modules.function_code import HANDLERS_DIR, build_archive

PROJECT_ROOT = Path(__file__).resolve().parents[2]


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


_BUILD_IN_A_NEW_PROCESS = (
    "import sys; from pathlib import Path; from modules.function_code import build_archive; "
    "a = build_archive(sys.argv[1], handlers_dir=Path(sys.argv[2]), build_dir=Path(sys.argv[3])); "
    "print(a.sha256_base64)"
)


def _copy_handlers(source: Path, target: Path, *, reverse: bool, mtime: int) -> None:
    """Copy the handler files one by one, in sorted or reverse order (so directory order differs), all with
    one chosen mtime."""
    files = sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                   and p.suffix != ".pyc")
    for path in reversed(files) if reverse else files:
        copy = target / path.relative_to(source)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(path.read_bytes())
        os.utime(copy, (mtime, mtime))
    for folder in [target, *(p for p in target.rglob("*") if p.is_dir())]:
        os.utime(folder, (mtime, mtime))


@pytest.fixture
def listing_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder on tmpfs when there is one: there a directory lists its entries by creation order (on ext4
    the order is a hash of the name, so a copy made in another order would list the same)."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    with tempfile.TemporaryDirectory(dir=shm) as folder:
        yield Path(folder)


@pytest.mark.parametrize("stage", ["validator", "processor"])
def test_archive_is_byte_identical_across_processes_copies_mtimes_and_creation_order(
        listing_dir: Path, stage: str) -> None:
    tmp_path = listing_dir
    builds = []
    for name, reverse, mtime in (("a", False, 315_532_800 + 86_400 * 400), ("b", True, 1_700_000_000)):
        handlers = tmp_path / name / "handlers"
        _copy_handlers(HANDLERS_DIR, handlers, reverse=reverse, mtime=mtime)
        result = subprocess.run(
            [sys.executable, "-c", _BUILD_IN_A_NEW_PROCESS, stage, str(handlers), str(tmp_path / name / "out")],
            cwd=PROJECT_ROOT, capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONHASHSEED": str(len(builds) + 1)},
        )
        builds.append((result.stdout.strip(), (tmp_path / name / "out" / f"{stage}.zip").read_bytes()))
    (hash_a, bytes_a), (hash_b, bytes_b) = builds
    if listing_dir.parent == Path("/dev/shm"):
        listings = [os.listdir(tmp_path / name / "handlers" / "shared") for name in ("a", "b")]
        assert listings[0] != listings[1], "precondition: the two copies list their files in different orders"
    assert bytes_a == bytes_b, "the archive must not depend on file dates, creation order or the process"
    assert hash_a == hash_b == base64.b64encode(hashlib.sha256(bytes_a).digest()).decode()


def test_archive_entries_are_sorted_with_a_fixed_date_and_mode(tmp_path: Path) -> None:
    with zipfile.ZipFile(build_archive("enricher", build_dir=tmp_path).path) as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names) and names[0] == "handlers/__init__.py"
    assert {(i.date_time, i.external_attr >> 16, i.compress_type) for i in infos} == {
        ((1980, 1, 1, 0, 0, 0), 0o644, zipfile.ZIP_DEFLATED)}


def test_unchanged_archive_is_not_rewritten(tmp_path: Path) -> None:
    first = build_archive("validator", build_dir=tmp_path)
    os.utime(first.path, (1_000_000_000, 1_000_000_000))
    second = build_archive("validator", build_dir=tmp_path)
    assert second.path.stat().st_mtime == 1_000_000_000, "an unchanged archive keeps its file (and mtime)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["validator.zip"], "no temporary file is left behind"


def test_archive_names_the_stage_handler(tmp_path: Path) -> None:
    assert build_archive("processor", build_dir=tmp_path).handler == "handlers.processor.app.handler"


def test_archive_takes_nested_files_sorted_by_path_and_leaves_compiled_files_out(tmp_path: Path) -> None:
    import shutil

    handlers = tmp_path / "src" / "handlers"
    shutil.copytree(HANDLERS_DIR, handlers, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (handlers / "shared" / "sub").mkdir()
    (handlers / "shared" / "sub" / "x.py").write_text("X = 1\n")
    (handlers / "shared" / "sub-a.py").write_text("A = 1\n")  # '-' sorts before '/' as text, after as a part
    (handlers / "shared" / "stray.pyc").write_bytes(b"\x00")
    (handlers / "shared" / "__pycache__").mkdir()
    (handlers / "shared" / "__pycache__" / "codec.cpython-311.pyc").write_bytes(b"\x00")
    (handlers / "shared" / "__pycache__" / "notes.txt").write_text("cache")
    archive = build_archive("enricher", handlers_dir=handlers, build_dir=tmp_path / "out" / "nested")
    names = zipfile.ZipFile(archive.path).namelist()
    assert names == sorted(names), "entries sorted by their path as text"
    assert {"handlers/shared/sub/x.py", "handlers/shared/sub-a.py"} <= set(names)
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]


def test_a_stage_without_handler_names_the_file_it_looked_for(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as error:
        build_archive("nope", build_dir=tmp_path)
    assert str(error.value) == f"no handler for stage 'nope': expected {HANDLERS_DIR / 'nope' / 'app.py'}"


def test_archive_is_written_beside_its_target_not_in_the_system_temp_dir(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Path.replace is atomic only within one filesystem, and TMPDIR may be another one (or gone).
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-temp-dir"))
    archive = build_archive("enricher", build_dir=tmp_path / "out")
    assert zipfile.ZipFile(archive.path).testzip() is None


def test_archive_being_written_is_a_hidden_file_named_after_its_stage(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # What a concurrent build or a file watcher sees in the build folder before the rename.
    seen: list[Path] = []
    real = tempfile.NamedTemporaryFile

    def spy(*args: object, **kwargs: object) -> object:
        handle = real(*args, **kwargs)  # type: ignore[call-overload]
        seen.append(Path(handle.name))
        return handle

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", spy)
    build_archive("validator", build_dir=tmp_path)
    [partial] = seen
    assert partial.parent == tmp_path and re.fullmatch(r"\.validator\.[a-z0-9_]{8}\.zip", partial.name), partial
    assert not partial.exists(), "renamed to validator.zip"
