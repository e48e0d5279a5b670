"""checkov started ahead of its files: ``python -m tools.plans.checkov_worker``.

Most of a checkov run on one plan is its start (its imports and check registries: about 3 of its 4 CPU
seconds on the prod plan), and none of that needs the plan. The worker pays it at once, while the stack is
synthesized and planned on the other core, then reads its command line as one JSON list on standard input
and runs checkov with it, exiting with checkov's code. Standard input ending first means nobody needed the
scan: it exits 0 having scanned nothing.

:func:`tools.plans.checkov_scan.start_checkov` puts it under Linux's SCHED_IDLE policy (:mod:`tools.scheduling`):
the synthesis and the plan keep both cores whenever they can use them, and the start-up runs in what they
leave idle. The review gives it the normal policy back when it hands over the files (an import still
running idle then would make the review wait on a busy machine for time nobody leaves idle). Where the
system refuses that (leaving SCHED_IDLE takes CAP_SYS_NICE or an RLIMIT_NICE above 0,
https://man7.org/linux/man-pages/man7/sched.7.html), it imports and scans idle.
"""

from __future__ import annotations

import json
import sys


def main() -> int:
    from checkov.main import Checkov  # the start-up paid ahead
    from checkov.terraform import plan_runner  # noqa: F401  the terraform_plan runner and its registries

    line = sys.stdin.readline()
    if not line.strip():
        return 0
    argv = json.loads(line)
    if not isinstance(argv, list) or not all(isinstance(arg, str) for arg in argv):
        print(f"checkov_worker: expected a JSON list of arguments, got {line[:200]!r}", file=sys.stderr)
        return 2
    return int(Checkov(argv).run() or 0)


if __name__ == "__main__":
    sys.exit(main())
