"""Where the library finds the files it packages: in this repository, or installed from the wheel.

In the repository, ``modules/`` (this package) and ``handlers/`` are folders of the project root, which also
holds ``Pipfile.lock``. The wheel installs ``modules/`` as the package ``tap_pipeline`` and the handler code
inside it, as ``tap_pipeline/handlers`` (pyproject.toml, ``[tool.setuptools]``), so that it claims one
import name only; it holds no lock file, and its Powertools pin is in its own metadata
(:mod:`.powertools_layer`). Lambda imports the handlers as ``handlers.<stage>.app`` from each function's
archive either way (:mod:`.function_code`): their folder is data to the library, never imported by it.
"""

from __future__ import annotations

import os
from pathlib import Path

LIBRARY_DIR = Path(__file__).resolve().parent
_INSTALLED_HANDLERS = LIBRARY_DIR / "handlers"

#: True when this package runs from an installed wheel (the handlers inside it), False in the repository.
INSTALLED = _INSTALLED_HANDLERS.is_dir()
#: The project root of the repository (None when installed).
PROJECT_ROOT: Path | None = None if INSTALLED else LIBRARY_DIR.parent
HANDLERS_DIR = _INSTALLED_HANDLERS if INSTALLED else LIBRARY_DIR.parent / "handlers"


def build_dir() -> Path:
    """Where the function archives are written before cdktf copies them into the synthesized stack.

    The repository's ``.build/`` (git-ignored); installed, the user's cache folder, since site-packages may
    be read-only and the archives are the same wherever they are built.
    """
    if PROJECT_ROOT is not None:
        return PROJECT_ROOT / ".build" / "functions"
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "tap-pipeline" / "functions"
