"""A GitHub Actions artifact's round trip, from a workflow's own upload and download steps.

actions/upload-artifact@v4 zips the files its ``path`` lines select (``!`` lines exclude, hidden files only with
``include-hidden-files: true``), following symbolic links; actions/download-artifact@v4 unzips them under its
``path``. A zip keeps neither links nor file modes (https://github.com/actions/upload-artifact#permission-loss):
Python's zipfile does the same, so what arrives here is what the apply job gets.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any


def step(job: Mapping[str, Any], action: str) -> dict[str, Any]:
    """The job's one step that uses ``action`` (``actions/upload-artifact``), whatever its version."""
    [found] = [s for s in job["steps"] if s.get("uses", "").split("@")[0] == action]
    return found


def _paths(upload: Mapping[str, Any], matrix: Mapping[str, str]) -> tuple[list[str], list[str]]:
    lines = [line.strip() for line in str(upload["with"]["path"]).splitlines() if line.strip()]
    for key, value in matrix.items():
        lines = [line.replace(f"${{{{ matrix.{key} }}}}", value) for line in lines]
    assert not [line for line in lines if "${{" in line or "*" in line], f"patterns this helper cannot expand: {lines}"
    return [line for line in lines if not line.startswith("!")], [line[1:] for line in lines if line.startswith("!")]


def _under(path: PurePosixPath, folder: str) -> bool:
    return path == PurePosixPath(folder) or PurePosixPath(folder) in path.parents


def round_trip(workspace: Path, upload: Mapping[str, Any], download: Mapping[str, Any],
               matrix: Mapping[str, str], runner: Path) -> list[str]:
    """Upload from ``workspace`` as the upload step would and download into ``runner`` as the download step
    would; returns the artifact's file names."""
    included, excluded = _paths(upload, matrix)
    [root] = included  # one folder: the artifact's root is that folder
    hidden = upload["with"].get("include-hidden-files") is True
    archive = runner.parent / f"{runner.name}-artifact.zip"
    names = []
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as artifact:
        def kept(path: Path) -> bool:
            relative = PurePosixPath(path.relative_to(workspace).as_posix())
            return not any(_under(relative, folder.rstrip("/")) for folder in excluded)

        for directory, folders, files in os.walk(workspace / root, followlinks=True):
            folders[:] = [f for f in folders if kept(Path(directory) / f)]
            for name in sorted(files):
                path = Path(directory) / name
                relative = PurePosixPath(path.relative_to(workspace).as_posix())
                if not kept(path):
                    continue
                if not hidden and any(part.startswith(".") for part in relative.relative_to(root).parts):
                    continue
                arcname = relative.relative_to(root).as_posix()
                artifact.write(path, arcname)
                names.append(arcname)
    target = runner / _paths(download, matrix)[0][0]
    with zipfile.ZipFile(archive) as artifact:
        artifact.extractall(target)
    return sorted(names)
