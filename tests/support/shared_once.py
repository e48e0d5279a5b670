"""A file or folder made once per test run, shared by the pytest-xdist workers (each has its own session)."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest


def shared_file(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """``name`` in a folder every worker of this run sees, made by ``make(path)`` by whichever worker asks first.

    The others wait on an exclusive lock (``fcntl.flock``: a file lock that ends with its process, so a
    crashed maker cannot block the rest) and then read what it wrote. Without xdist the session's own
    temporary folder serves. ``make`` must write ``path`` completely or raise; nothing half-made is kept.
    """
    return _made_once(tmp_path_factory, name, make)


def shared_folder(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """As :func:`shared_file`, for a folder that ``make(path)`` creates at ``path``. The callers read it, or
    copy it to change it: it is every worker's."""
    return _made_once(tmp_path_factory, name, make)


def _made_once(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, above each worker's own
    path = root / name
    with (root / f"{name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not path.exists():
                partial = path.with_name(path.name + ".partial")
                _remove(partial)  # what a maker that failed left
                make(partial)
                partial.replace(path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return path


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
