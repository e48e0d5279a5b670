"""The cdktf App, plus the Terraform version requirement written beside every stack."""

from __future__ import annotations

from pathlib import Path

from cdktf import App, TerraformStack

from .retired import REMOVED_FILE, removed_tf

# use_lockfile (S3 native state locking) needs Terraform 1.10 or later:
# https://developer.hashicorp.com/terraform/language/backend/s3#state-locking
REQUIRED_TERRAFORM_VERSION = ">= 1.10"
VERSIONS_FILE = "versions.tf"


def versions_tf(required_version: str = REQUIRED_TERRAFORM_VERSION) -> str:
    return f'terraform {{\n  required_version = "{required_version}"\n}}\n'


class PipelineApp(App):
    """An App whose synth also writes ``versions.tf`` into each stack folder, and ``removed.tf`` into
    those that forget resources of earlier releases (see :mod:`modules.retired`).

    ``terraform.required_version`` inside cdk.tf.json would crash checkov's terraform_json parser
    (bridgecrewio/checkov#7454); an HCL file beside it is read by Terraform, and checkov's
    terraform_json framework reads only the JSON.
    """

    def synth(self) -> None:
        super().synth()
        stacks = Path(self.outdir) / "stacks"
        for stack_dir in sorted(stacks.iterdir()):
            if (stack_dir / "cdk.tf.json").is_file():
                (stack_dir / VERSIONS_FILE).write_text(versions_tf())
        for stack in self.node.children:
            target = stacks / stack.node.id / REMOVED_FILE
            removed = removed_tf(stack) if isinstance(stack, TerraformStack) else ""
            if removed and target.parent.is_dir():
                target.write_text(removed)
            else:
                target.unlink(missing_ok=True)  # a file from an earlier synth would still be read
