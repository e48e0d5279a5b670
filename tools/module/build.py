"""Writes the Terraform module folder: the configuration synthesized from the construct, its archives, its
versions, its README and its complete example.

``dist/terraform-aws-tap-pipeline/``::

    main.tf.json              variables (with validation), the pipeline's resources, outputs, required_providers
    versions.tf               required_version
    assets/<function>/...zip  the handler archives, referenced as ${path.module}/assets/...
    README.md                 usage, inputs and outputs tables (generated from main.tf.json)
    examples/complete/main.tf provider, backend and one module block, in plain HCL
"""

from __future__ import annotations

import json
import shutil
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from tools.module.example import EXAMPLE_PATH, example_hcl
from tools.module.readme import readme
from tools.module.requirements import REQUIRED_TERRAFORM_VERSION

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MODULE_NAME = "terraform-aws-tap-pipeline"
DEFAULT_TARGET = PROJECT_ROOT / "dist" / MODULE_NAME
MAIN_FILE = "main.tf.json"
VERSIONS_FILE = "versions.tf"
README_FILE = "README.md"
ASSETS_DIR = "assets"
#: Everything the build writes, and so everything it may replace in an existing folder.
WRITTEN = (MAIN_FILE, VERSIONS_FILE, README_FILE, ASSETS_DIR, "examples")


class ModuleBuildError(RuntimeError):
    """The module folder cannot be written; the message says why."""


def project_version() -> str:
    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["version"]


def synthesize(outdir: Path) -> Path:
    """The module stack synthesized into ``outdir``; returns its stack folder."""
    from modules.provider_bindings import load_provider_bindings
    from modules.runtime_env import silence_node_eol_banner

    silence_node_eol_banner()
    load_provider_bindings()
    from cdktf_tf_module_stack import TFModuleApp

    from tools.module.stack import PipelineModuleStack

    app = TFModuleApp(outdir=str(outdir))
    PipelineModuleStack(app, MODULE_NAME)
    app.synth()
    return outdir / "stacks" / MODULE_NAME


def module_document(stack_dir: Path) -> dict[str, Any]:
    """The synthesized configuration, without cdktf's stack-level metadata (which names a local backend that a
    module does not have)."""
    document = json.loads((stack_dir / "cdk.tf.json").read_text())
    document.pop("//", None)
    return document


def write_module(target: Path = DEFAULT_TARGET) -> Path:
    """Build the module into ``target`` (what an earlier build wrote there is replaced, nothing else)."""
    if target.exists() and not target.is_dir():
        raise ModuleBuildError(f"{target} is a file: give a folder for the module")
    with tempfile.TemporaryDirectory(prefix="tap-module-") as scratch:
        stack_dir = synthesize(Path(scratch))
        document = module_document(stack_dir)
        target.mkdir(parents=True, exist_ok=True)
        for name in WRITTEN:
            path = target / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        (target / MAIN_FILE).write_text(json.dumps(document, indent=2) + "\n")
        shutil.copytree(stack_dir / ASSETS_DIR, target / ASSETS_DIR)
    (target / VERSIONS_FILE).write_text(f'terraform {{\n  required_version = "{REQUIRED_TERRAFORM_VERSION}"\n}}\n')
    example = example_hcl()
    (target / EXAMPLE_PATH).parent.mkdir(parents=True)
    (target / EXAMPLE_PATH).write_text(example)
    (target / README_FILE).write_text(readme(document, example, project_version()))
    return target
