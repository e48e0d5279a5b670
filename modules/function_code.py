"""Deterministic deployment archives of the handler code.

Each function's archive holds ``handlers/__init__.py``, the shared code and its
own stage's folder, nothing else.  Entries are sorted and carry a fixed date
and mode, so unchanged code gives a byte-identical archive, the same hash, and
a Terraform plan with no change.
"""

from __future__ import annotations

import base64
import hashlib
import io
import runpy
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .locations import HANDLERS_DIR, build_dir

BUILD_DIR = build_dir()
SHARED_PACKAGE = "shared"
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)
_EXCLUDED_PARTS = {"__pycache__"}
_EXCLUDED_SUFFIXES = {".pyc", ".pyo"}


@dataclass(frozen=True)
class FunctionArchive:
    """A built archive: where it is, and its base64 SHA-256 (Lambda's ``source_code_hash``)."""

    path: Path
    sha256_base64: str
    handler: str


def _archive_members(stage: str, handlers_dir: Path) -> list[Path]:
    stage_dir = handlers_dir / stage
    if not (stage_dir / "app.py").is_file():
        raise FileNotFoundError(f"no handler for stage {stage!r}: expected {stage_dir / 'app.py'}")
    members = [handlers_dir / "__init__.py"]
    for folder in (handlers_dir / SHARED_PACKAGE, stage_dir):
        members += [
            path for path in folder.rglob("*")
            if path.is_file() and not (_EXCLUDED_PARTS & set(path.parts)) and path.suffix not in _EXCLUDED_SUFFIXES
        ]
    return sorted(members, key=lambda p: p.relative_to(handlers_dir.parent).as_posix())


def build_archive(stage: str, *, handlers_dir: Path = HANDLERS_DIR, build_dir: Path = BUILD_DIR) -> FunctionArchive:
    """Zip one stage's code (and the shared package) deterministically."""
    build_dir.mkdir(parents=True, exist_ok=True)
    target = build_dir / f"{stage}.zip"
    buffer = io.BytesIO()
    # No archive-wide compression: each ZipInfo below sets its own, and writestr reads only the entry's.
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in _archive_members(stage, handlers_dir):
            info = zipfile.ZipInfo(path.relative_to(handlers_dir.parent).as_posix(), date_time=_FIXED_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    data = buffer.getvalue()
    # Rewrite only on change, so the file's mtime (and any watcher) sees no edit either; through a temporary
    # file of this process's own, since several synths (tests, cdktf) may build the same archive at once.
    if not target.exists() or target.read_bytes() != data:
        with tempfile.NamedTemporaryFile(dir=build_dir, prefix=f".{stage}.", suffix=".zip", delete=False) as tmp:
            tmp.write(data)
        Path(tmp.name).replace(target)
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    return FunctionArchive(path=target, sha256_base64=digest, handler=f"handlers.{stage}.app.handler")


def handler_constant(name: str, *, handlers_dir: Path = HANDLERS_DIR) -> object:
    """A constant of ``handlers/shared/names.py``, the module the handlers share with what deploys them.

    Read from the file rather than imported: installed, the handler code is data inside the package
    (:mod:`.locations`), importable only under the name Lambda gives it inside an archive.
    """
    return runpy.run_path(str(handlers_dir / SHARED_PACKAGE / "names.py"))[name]
