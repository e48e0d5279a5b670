"""The one place that decides where Terraform gets its providers.

Terraform is pointed at a filesystem mirror when the machine has one (the
offline CI machines carry hashicorp/aws 5.100.0 under ``/opt/tf-plugins``) and
at the public registry otherwise.  Every caller (tests, the local demo, the
Makefile) takes its environment from :func:`terraform_env`, so the rule lives
here and nowhere else.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CLI_CONFIG_PATH = PROJECT_ROOT / ".build" / "terraform.tfrc"
PLUGIN_CACHE_DIR = PROJECT_ROOT / ".build" / "terraform-plugin-cache"
PROVIDER_SOURCE = "registry.terraform.io/hashicorp/aws"
# Searched in order; TAP_TF_PROVIDER_MIRROR overrides them all.
MIRROR_CANDIDATES = (
    Path("/opt/tf-plugins"),
    Path("/usr/share/terraform/plugins"),
    Path.home() / ".terraform.d" / "plugins",
)


#: Go's garbage-collection target (GOGC) for Terraform and the provider processes it starts, which inherit its
#: environment. Every plan, show or validate has the AWS provider build its whole schema (13 MB as JSON) and
#: Terraform decode it, and at Go's default of 100 both collect many times while doing so: at 400,
#: a no-change plan of prod took 5.0 s and 5.7 CPU s instead of 5.5 s and 7.6 CPU s, show 1.9 s instead of 2.1 s,
#: for about 130 MB more peak memory per process (docs/performance.md, "Go's garbage collector"). A GOGC the
#: caller set wins.
GO_GC_PERCENT = "400"

#: How long a plan or an apply waits for a state lock that another run holds (a drift plan during a deploy).
LOCK_TIMEOUT = "5m"
#: Terraform 1.11 deprecates the S3 backend's ``dynamodb_table`` in favour of ``use_lockfile`` and warns about it
#: whenever it reads a backend that sets it. The stacks set both on purpose (docs/deploying.md, "State and
#: locking"), so the tools drop this one warning, in the ``-no-color`` form they run Terraform with, from what
#: they read and print.
DYNAMODB_TABLE_WARNING = re.compile(
    r'\n?^Warning: Deprecated Parameter\n'
    r'(?:(?!(?:Warning|Error): ).*\n)*?'  # its source lines, never another diagnostic
    r'The parameter "dynamodb_table" is deprecated\. Use parameter "use_lockfile"\s+instead\.\n',
    re.MULTILINE)


def without_known_warnings(text: str) -> str:
    """``text`` without the warnings docs/deploying.md explains once (the ``dynamodb_table`` deprecation)."""
    return DYNAMODB_TABLE_WARNING.sub("", text)


def failure_hints(output: str) -> list[str]:
    """What to do about the failures in Terraform's ``output`` that the project knows."""
    from tools.aws_credentials import BOOTSTRAP_FIRST, HOW_TO_GIVE

    hints = []
    if "No valid credential sources found" in output:
        hints.append(f"Terraform found no AWS credentials: {HOW_TO_GIVE}. {BOOTSTRAP_FIRST}")
    for bucket in re.findall(r'S3 bucket "([^"]+)" does not exist', output):
        hints.append(f"the state bucket {bucket} does not exist: on a new account run `make bootstrap` first (as "
                     "an administrator), or check [state] in environments.toml and TAP_STATE_BUCKET")
    if "Error acquiring the state lock" in output:
        hints.append(f"another Terraform run holds the state lock (this one waited {LOCK_TIMEOUT}): let it end "
                     "and run again; if none runs (one was killed), `terraform force-unlock <ID>` in the work "
                     "folder releases it, with the ID from the lock info above")
    return hints


def failure_message(what: str, result: subprocess.CompletedProcess[str], tail: int = 4000) -> str:
    """``what`` failed: the exit code, what to do (:func:`failure_hints`), and the end of Terraform's output."""
    hints = "".join(f"\n- {hint}" for hint in failure_hints(result.stdout + result.stderr))
    return (f"{what} (exit {result.returncode}){': what to do:' if hints else ':'}{hints}\n"
            f"{result.stdout[-tail:]}\n{result.stderr[-tail:]}")


def find_provider_mirror() -> Path | None:
    """Return a filesystem mirror that holds hashicorp/aws, or None."""
    override = os.environ.get("TAP_TF_PROVIDER_MIRROR")
    candidates = (Path(override),) if override else MIRROR_CANDIDATES
    for root in candidates:
        if (root / PROVIDER_SOURCE).is_dir():
            return root
    return None


def render_cli_config(mirror: Path | None) -> str:
    """CLI config text: the mirror for hashicorp/aws if present, the registry for the rest."""
    if mirror is None:
        return f'plugin_cache_dir = "{PLUGIN_CACHE_DIR}"\n'
    return (
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f'    path    = "{mirror}"\n'
        f'    include = ["{PROVIDER_SOURCE}"]\n'
        "  }\n"
        "  direct {\n"
        f'    exclude = ["{PROVIDER_SOURCE}"]\n'
        "  }\n"
        "}\n"
    )


def write_cli_config() -> Path:
    """Write the CLI config file (idempotently) and return its path."""
    mirror = find_provider_mirror()
    text = render_cli_config(mirror)
    CLI_CONFIG_PATH.parent.mkdir(parents=True, exist_ok=True)
    if mirror is None:
        PLUGIN_CACHE_DIR.mkdir(parents=True, exist_ok=True)
    if not CLI_CONFIG_PATH.exists() or CLI_CONFIG_PATH.read_text() != text:
        CLI_CONFIG_PATH.write_text(text)
    return CLI_CONFIG_PATH


def terraform_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment for running terraform offline-safe and non-interactive."""
    env = dict(os.environ if base is None else base)
    env["TF_CLI_CONFIG_FILE"] = str(write_cli_config())
    env["TF_IN_AUTOMATION"] = "1"
    env["TF_INPUT"] = "0"
    env.setdefault("CHECKPOINT_DISABLE", "1")
    env.setdefault("GOGC", GO_GC_PERCENT)
    return env


def terraform_binary() -> str:
    path = shutil.which("terraform")
    if path is None:
        raise SystemExit(
            "terraform is not on PATH: install Terraform 1.11 (https://developer.hashicorp.com/terraform/install)"
        )
    return path


def run_terraform(
    args: Sequence[str], cwd: Path | str, *, check: bool = True, capture: bool = True,
    extra_env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``terraform <args>`` in ``cwd`` with the project's CLI config."""
    env = terraform_env()
    if extra_env:
        env.update(extra_env)
    result = subprocess.run(
        [terraform_binary(), *args], cwd=cwd, env=env, text=True,
        capture_output=capture, check=False,
    )
    if capture:
        result.stdout, result.stderr = without_known_warnings(result.stdout), without_known_warnings(result.stderr)
    if check and result.returncode != 0:
        raise RuntimeError(failure_message(f"terraform {' '.join(args)} failed in {cwd}", result, tail=100_000))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print-path", action="store_true", help="print the CLI config path (default)")
    parser.parse_args()
    print(write_cli_config())


if __name__ == "__main__":
    main()
