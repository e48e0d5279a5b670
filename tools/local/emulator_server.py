"""moto's server (``python -m moto.server``) with two hot helpers swapped for faster ones, and SQS's
SetQueueAttributes made to keep a queue's policy when the call does not name it, as SQS does.

Profiling the pipeline on moto 5.2 shows most of the emulator's time in two helpers that SQS calls for
every message, several times (``Queue.attributes`` recomputes every attribute, message counts included):
``camelcase_to_underscores`` (a pure function of its string, so memoizing it changes nothing) and
``unix_time``/``unix_time_millis`` without an argument (the current time, computed through naive
datetimes; ``time.time()`` gives the same number).  Both are replaced before moto loads its backends,
which import them by name.  If a moto release renames them, the server simply runs unpatched.

    python -m tools.local.emulator_server [moto.server options, e.g. -H 127.0.0.1 -p 5000]
"""

from __future__ import annotations

import functools
import sys
import time
from typing import Any


def speed_up_moto() -> bool:
    """Patch moto.core.utils in place; False if its helpers are not the ones this was written for."""
    from moto.core import utils

    originals = [getattr(utils, name, None) for name in ("camelcase_to_underscores", "unix_time")]
    if not all(callable(helper) for helper in originals):
        return False
    camelcase_to_underscores, unix_time = originals

    def fast_unix_time(dt: Any = None) -> float:
        return time.time() if dt is None else float(unix_time(dt))  # type: ignore[misc]

    def fast_unix_time_millis(dt: Any = None) -> float:
        return fast_unix_time(dt) * 1000.0

    utils.camelcase_to_underscores = functools.lru_cache(maxsize=8192)(camelcase_to_underscores)
    utils.unix_time = fast_unix_time
    utils.unix_time_millis = fast_unix_time_millis
    return True


def keep_unnamed_queue_policy() -> bool:
    """SetQueueAttributes changes only the attributes it names, on SQS; moto 5.2 also clears ``Policy``.

    moto's ``Queue._set_attributes`` ends with ``self.policy = attributes.get("Policy")``, so setting a
    redrive policy on a queue created with its TLS-only policy would drop that policy, and the next plan
    would want to set it again.  The patched method passes the current policy along when the call does
    not name one.  False (and nothing patched) if moto's queue has no such method any more.
    """
    from moto.sqs.models import Queue

    original = getattr(Queue, "_set_attributes", None)
    if not callable(original):
        return False

    def _set_attributes(self: Any, attributes: dict[str, Any], now: Any = None) -> None:
        # While the constructor runs, the queue has no policy yet: its defaults name Policy anyway.
        if "Policy" not in attributes and hasattr(self, "_policy_json"):
            attributes = {**attributes, "Policy": self.policy}
        original(self, attributes, now)

    Queue._set_attributes = _set_attributes
    return True


def main(argv: list[str] | None = None) -> None:
    speed_up_moto()
    keep_unnamed_queue_policy()
    from moto.server import main as moto_main

    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
