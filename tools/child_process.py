"""Child processes that end with the process that started them, even when it is killed outright.

The kernel sends such a child SIGTERM when the thread that started it exits (``PR_SET_PDEATHSIG``,
https://man7.org/linux/man-pages/man2/prctl.2.html), so neither a crash nor a SIGKILL leaves it behind.
"""

from __future__ import annotations

import ctypes
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """For ``subprocess.Popen(preexec_fn=...)``: runs in the child between fork and exec. Linux only; elsewhere
    the child is left to its parent's own clean-up."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
