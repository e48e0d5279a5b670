"""Bring the local environment up (emulator + `local` stack) and take it down again.

Shared by the ``up``, ``demo`` and ``down`` commands, so that none of them is
built on another.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tools.local.emulator import Emulator
from tools.local.progress import Progress
from tools.local.session import Session, local_dir, session_file
from tools.local.stack import Deployment, synth
from tools.local.topology import Topology


@dataclass(frozen=True)
class Running:
    """A deployed local environment."""

    emulator: Emulator
    deployment: Deployment
    topology: Topology
    log_dir: Path


def active_session() -> Session | None:
    """The kept environment, if its emulator still runs; a stale session file is removed."""
    if not session_file().is_file():
        return None
    session = Session.load()
    if Emulator(session.endpoint, session.pid).alive():
        return session
    Session.remove()
    return None


def refuse_if_running() -> bool:
    """True (after saying so on stderr) when an environment is already up: one at a time."""
    running = active_session()
    if running is None:
        return False
    print(
        f"a local environment is already running at {running.endpoint} (pid {running.pid}); "
        "use `python -m tools local down` first, or work with it through `python -m tools local`",
        file=sys.stderr,
    )
    return True


@contextmanager
def deployed(
    progress: Progress, *, keep: bool, stack_dir: Path | None = None, destroy: bool = False
) -> Iterator[Running]:
    """Start the emulator and apply the `local` stack (or the one already synthesized in ``stack_dir``).

    When the block ends normally and ``keep`` is set, the environment stays up, recorded in the session
    file; otherwise (and always after an error or Ctrl-C) the emulator is stopped and the state forgotten,
    after a ``terraform destroy`` when ``destroy`` is set.
    """
    log_dir = local_dir() / "logs"
    progress.step("starting the AWS emulator (moto server) ...")
    emulator = Emulator.start(log_path=local_dir() / "emulator.log", outlive_parent=keep)
    progress.step(f"emulator listening at {emulator.endpoint} (pid {emulator.pid})")
    deployment: Deployment | None = None
    applied = False
    kept = False
    try:
        if stack_dir is None:
            progress.step("synthesizing the `local` stack (cdktf) ...")
            deployment = Deployment(synth(), emulator.endpoint)
        else:
            stack_dir = stack_dir.resolve()
            deployment = Deployment(stack_dir, emulator.endpoint, stack_dir / "terraform.tfstate")
        deployment.forget_state()  # any state left is of an emulator that is gone
        progress.step("terraform init ...")
        deployment.init()
        progress.step("terraform apply ...")
        applied = True  # from here on, destroy on the way out
        deployment.apply(on_line=progress.terraform_lines("apply"))
        topology = deployment.topology()
        progress.step(
            f"deployed: {len(topology.stages)} stages, {len(topology.queues)} queues, "
            f"table {', '.join(topology.tables)}"
        )
        yield Running(emulator, deployment, topology, log_dir)
        if keep:
            state = str(deployment.state_path) if deployment.state_path else None
            Session(emulator.endpoint, emulator.pid, str(deployment.stack_dir), state, str(log_dir)).save()
            kept = True
            progress.step(f"environment kept running ({session_file()}); end it with `python -m tools local down`")
    finally:
        if not kept:
            if destroy:
                teardown(deployment if applied else None, emulator, progress)
            else:
                discard(deployment, emulator, progress)


def discard(deployment: Deployment | None, emulator: Emulator, progress: Progress) -> None:
    """Stop the emulator and forget the state: what was deployed lived only in the emulator's memory.

    ``terraform destroy`` would spend about a minute deleting, one API call and provider wait at a time,
    what stopping the emulator drops at once (``make down`` and the end-to-end tests still destroy).
    """
    started = time.monotonic()
    try:
        emulator.stop()
    finally:
        if deployment is not None:
            deployment.forget_state()
    progress.step(f"emulator stopped (pid {emulator.pid}) and its state forgotten, no terraform destroy, "
                  f"in {time.monotonic() - started:.1f} s; done")


def teardown(deployment: Deployment | None, emulator: Emulator, progress: Progress) -> None:
    """terraform destroy (if anything was applied), then stop the emulator; a second Ctrl-C skips destroy."""
    try:
        if deployment is not None:
            progress.step("terraform destroy ...")
            try:
                deployment.destroy(on_line=progress.terraform_lines("destroy"))
            except Exception as error:  # noqa: BLE001 - the emulator's memory goes anyway; say so, go on
                progress.step(f"destroy failed ({str(error).splitlines()[0]}); dropping the state instead")
                deployment.forget_state()
            except KeyboardInterrupt:
                deployment.forget_state()
                raise
    finally:
        emulator.stop()
        progress.step(f"emulator stopped (pid {emulator.pid}); done")


def take_down() -> None:
    """End the environment of the session file: destroy what was deployed, stop the emulator, forget it."""
    session = Session.load()
    emulator = Emulator(session.endpoint, session.pid)
    state = Path(session.state_path) if session.state_path else None
    deployment = Deployment(Path(session.stack_dir), session.endpoint, state)
    if not emulator.alive():
        deployment.forget_state()
    try:
        teardown(deployment if emulator.alive() else None, emulator, Progress())
    finally:
        Session.remove()
