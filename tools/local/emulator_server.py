"""moto's server (``python -m moto.server``) with two hot helpers swapped for equivalent, faster ones.

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


def main(argv: list[str] | None = None) -> None:
    speed_up_moto()
    from moto.server import main as moto_main

    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
