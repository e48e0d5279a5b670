"""The kept local environment, recorded in ``.local/session.json`` so that later commands find it."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOCAL_DIR = PROJECT_ROOT / ".local"
#: TAP_LOCAL_SESSION points the commands at another session file (the tests keep theirs apart).
DEFAULT_SESSION_FILE = LOCAL_DIR / "session.json"


def session_file() -> Path:
    return Path(os.environ.get("TAP_LOCAL_SESSION") or DEFAULT_SESSION_FILE)


def local_dir() -> Path:
    """Where the local environment's files go (logs, emulator log): beside the session file."""
    return session_file().parent


@dataclass(frozen=True)
class Session:
    """Where the emulator listens (and its pid), and where its stack was deployed from."""

    endpoint: str
    pid: int
    stack_dir: str
    state_path: str | None = None
    log_dir: str | None = None
    started_at: float = 0.0

    def save(self, path: Path | None = None) -> Path:
        path = path or session_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        data = asdict(self)
        data["started_at"] = self.started_at or time.time()
        path.write_text(json.dumps(data, indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: Path | None = None) -> Session:
        """The saved session; SystemExit with a hint if there is none."""
        path = path or session_file()
        if not path.is_file():
            raise SystemExit(
                f"no local environment is running ({path} not found): start one with "
                "`python -m tools local up`"
            )
        return cls(**json.loads(path.read_text()))

    @staticmethod
    def remove(path: Path | None = None) -> None:
        (path or session_file()).unlink(missing_ok=True)
