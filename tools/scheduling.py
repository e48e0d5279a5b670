"""Work that may only use idle processor time: Linux's SCHED_IDLE policy, for the calling thread.

``make plan`` starts the checkov worker before the synthesis only so that its start-up is done when the
review needs it. At normal priority it slowed the synthesis and the plan down by about as much as it saved;
under SCHED_IDLE it runs in the time those leave idle (https://man7.org/linux/man-pages/man7/sched.7.html,
"SCHED_IDLE"). For a separate process only: a thread under SCHED_IDLE can hold the interpreter's lock while
the busy processors give it no time, and so stall the threads that have work.
"""

from __future__ import annotations

import os


def set_policy(policy_name: str, pid: int = 0) -> bool:
    """The calling thread (``pid`` 0), or the main thread of process ``pid``, under ``os.<policy_name>``
    (e.g. "SCHED_IDLE", "SCHED_OTHER"); False where the system has no such policy or refuses it (the thread then
    keeps the one it had), or the process has ended."""
    policy = getattr(os, policy_name, None)
    if policy is None or not hasattr(os, "sched_setscheduler"):
        return False
    try:
        os.sched_setscheduler(pid, policy, os.sched_param(0))
    except OSError:
        return False
    return True
