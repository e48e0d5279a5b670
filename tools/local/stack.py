"""The `local` environment's stack: synthesized by ``main.py``, deployed with Terraform onto the emulator."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tools.local import shown_state, topology
from tools.local.emulator import client_env
from tools.terraform_cli import terraform_binary, terraform_env

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STACK_NAME = "tap-pipeline-local"
STACK_DIR = PROJECT_ROOT / "cdktf.out" / "stacks" / STACK_NAME
#: Resource types the emulator creates but cannot delete (moto's CodeDeploy: release.codedeploy on `local`).
UNDELETABLE_ON_THE_EMULATOR = ("aws_codedeploy_",)
#: On the emulator an apply or destroy takes one to two minutes; past this something hangs.
TERRAFORM_TIMEOUT = 600.0


def synth(project_root: Path = PROJECT_ROOT) -> Path:
    """Synthesize only the `local` stack with ``main.py``; its folder (``cdktf.out/stacks/...``)."""
    env = {**os.environ, "TAP_STACKS": "local"}
    result = subprocess.run(
        [sys.executable, "main.py"],
        cwd=project_root,
        env=env,
        text=True,
        capture_output=True,
        check=False,
    )
    stack_dir = project_root / "cdktf.out" / "stacks" / STACK_NAME
    if result.returncode != 0 or not (stack_dir / "cdk.tf.json").is_file():
        raise RuntimeError(f"synth failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    return stack_dir


class TerraformError(RuntimeError):
    """A terraform command failed or timed out; the message ends with its output."""


@dataclass(frozen=True)
class Deployment:
    """Terraform in ``stack_dir`` against the emulator at ``endpoint``.

    ``state_path`` overrides where the local backend keeps the state (the tests use their own, so that
    they never touch the state of an environment a user keeps running).
    """

    stack_dir: Path
    endpoint: str
    state_path: Path | None = None

    def extra_env(self) -> dict[str, str]:
        # The endpoint in the environment, so that every command (plan, apply, destroy, show) gets it.
        return client_env(self.endpoint)

    def terraform(
        self,
        *args: str,
        ok_codes: tuple[int, ...] = (0,),
        on_line: Callable[[str], None] | None = None,
        timeout: float = TERRAFORM_TIMEOUT,
    ) -> tuple[int, str]:
        """Run terraform (the project's CLI config), streaming each output line to ``on_line``.

        On timeout or Ctrl-C terraform gets SIGINT first, so that it can write its state and release it.
        """
        process = subprocess.Popen(
            [terraform_binary(), *args, "-no-color"],
            cwd=self.stack_dir,
            env=terraform_env() | self.extra_env(),
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # our Ctrl-C handling decides when terraform is interrupted
        )
        lines: list[str] = []

        def pump() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                if on_line is not None:
                    on_line(line.rstrip("\n"))

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        try:
            code = process.wait(timeout)
        except (subprocess.TimeoutExpired, KeyboardInterrupt) as interrupted:
            _interrupt(process)
            reader.join(5)
            if isinstance(interrupted, KeyboardInterrupt):
                raise
            raise TerraformError(
                f"terraform {args[0]} timed out after {timeout:.0f}s:\n{''.join(lines)}"
            ) from None
        reader.join()
        output = "".join(lines)
        if code not in ok_codes:
            raise TerraformError(
                f"terraform {' '.join(args)} failed (exit {code}) in {self.stack_dir}:\n{output}"
            )
        return code, output

    def state_file(self) -> Path:
        """Where the state is: ``state_path``, else the stack's local backend path, else the default."""
        if self.state_path is not None:
            return self.state_path
        document = json.loads((self.stack_dir / "cdk.tf.json").read_text())
        path = document.get("terraform", {}).get("backend", {}).get("local", {}).get("path")
        if not path:
            return self.stack_dir / "terraform.tfstate"
        # Terraform reads a relative path from its working folder, the stack's.
        return Path(path) if Path(path).is_absolute() else self.stack_dir / path

    def forget_state(self) -> None:
        """Remove the state: for an emulator that is gone, whose resources went with it."""
        state = self.state_file()
        for stale in (state, state.with_name(state.name + ".backup")):
            stale.unlink(missing_ok=True)
        shown_state.forget(state)

    def init(self, on_line: Callable[[str], None] | None = None) -> None:
        args = ["init", "-input=false", "-reconfigure"]
        if self.state_path is not None:
            args.append(f"-backend-config=path={self.state_path}")
        self.terraform(*args, on_line=on_line)

    def apply(self, on_line: Callable[[str], None] | None = None) -> None:
        self.terraform("apply", "-input=false", "-auto-approve", on_line=on_line)

    def plan_exit_code(self) -> tuple[int, str]:
        """``terraform plan -detailed-exitcode``: 0 no changes, 2 changes; and the plan's text."""
        return self.terraform("plan", "-input=false", "-detailed-exitcode", ok_codes=(0, 2))

    def destroy(self, on_line: Callable[[str], None] | None = None) -> None:
        self.forget_undeletable()
        self.terraform("destroy", "-input=false", "-auto-approve", on_line=on_line)

    def forget_undeletable(self) -> list[str]:
        """Drop from the state what the emulator cannot delete (it has no DeleteDeploymentGroup nor
        DeleteApplication: the provider would retry until the timeout); it goes with the emulator. The
        addresses dropped."""
        _, listed = self.terraform("state", "list", ok_codes=(0, 1))
        undeletable = [line.strip() for line in listed.splitlines()
                       if line.strip().startswith(UNDELETABLE_ON_THE_EMULATOR)]
        if undeletable:
            self.terraform("state", "rm", *undeletable)
        return undeletable

    def topology(self) -> topology.Topology:
        return topology.load(self.stack_dir, self.extra_env(), self.state_file())


def _interrupt(process: subprocess.Popen[str]) -> None:
    """SIGINT (terraform stops cleanly), then SIGKILL if it does not end within 30 s."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
