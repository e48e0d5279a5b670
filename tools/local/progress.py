"""What the local commands print while they work: timestamped steps and a status line."""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import Any, TextIO


class Progress:
    """Timestamped steps; a status line redrawn in place on a terminal, printed every 5 s elsewhere."""

    def __init__(self, out: TextIO = sys.stdout) -> None:
        self.out = out
        self.started = time.monotonic()
        self.tty = out.isatty()
        self._open_line = False
        self._last_plain = 0.0

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def step(self, text: str) -> None:
        self._end_line()
        print(f"[{self.elapsed():6.1f}s] {text}", file=self.out, flush=True)

    def status(self, text: str, every: float = 5.0) -> None:
        if self.tty:
            print(f"\r\033[K         {text}", end="", file=self.out, flush=True)
            self._open_line = True
        elif time.monotonic() - self._last_plain >= every:
            self._last_plain = time.monotonic()
            print(f"         {text}", file=self.out, flush=True)

    def _end_line(self) -> None:
        if self._open_line:
            print(file=self.out)
            self._open_line = False

    def terraform_lines(self, verb: str) -> Any:
        """A callback for Deployment: counts finished resources and shows the count."""
        done = Counter[str]()

        def on_line(line: str) -> None:
            if "complete after" in line or "Read complete" in line:
                done[verb] += 1
                self.status(f"terraform {verb}: {done[verb]} resources done")

        return on_line
