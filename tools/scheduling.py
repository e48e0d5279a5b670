"""Work that may only use idle processor time: Linux's SCHED_IDLE policy, for the calling thread.

``make plan`` starts two things before the synthesis only so that their start-up is done when the plan
needs them: the checkov worker and, offline, the stand-in server of AWS's public parameters. At normal
priority they slowed the synthesis and the plan down by about as much as they saved; under SCHED_IDLE
they run in the time those leave idle (https://man7.org/linux/man-pages/man7/sched.7.html, "SCHED_IDLE").
"""

from __future__ import annotations

import os


def set_policy(policy_name: str) -> bool:
    """The calling thread under ``os.<policy_name>`` (e.g. "SCHED_IDLE", "SCHED_OTHER"); False where the
    system has no such policy or refuses it (the thread then keeps the one it had)."""
    policy = getattr(os, policy_name, None)
    if policy is None or not hasattr(os, "sched_setscheduler"):
        return False
    try:
        os.sched_setscheduler(0, policy, os.sched_param(0))
    except OSError:
        return False
    return True

