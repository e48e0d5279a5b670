"""A file made once per test run, shared by the pytest-xdist workers (each has its own session)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from pathlib import Path

import pytest


def shared_file(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """``name`` in a folder every worker of this run sees, made by ``make(path)`` by whichever worker asks first.

    The others wait on an exclusive lock (``fcntl.flock``: a file lock that ends with its process, so a
    crashed maker cannot block the rest) and then read what it wrote. Without xdist the session's own
    temporary folder serves. ``make`` must write ``path`` completely or raise; nothing half-made is kept.
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, above each worker's own
    path = root / name
    with (root / f"{name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not path.is_file():
                partial = path.with_name(path.name + ".partial")
                make(partial)
                partial.replace(path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return path
