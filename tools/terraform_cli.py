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
    if check and result.returncode != 0:
        raise RuntimeError(
            f"terraform {' '.join(args)} failed in {cwd} (exit {result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print-path", action="store_true", help="print the CLI config path (default)")
    parser.parse_args()
    print(write_cli_config())


if __name__ == "__main__":
    main()
