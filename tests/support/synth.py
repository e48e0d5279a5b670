"""A ``Testing.synth_scope``-shaped helper that takes a Python callable.

cdktf's own ``Testing.synth_scope`` cannot call back into Python (jsii has no
callable interfaces, hashicorp/terraform-cdk#2871), so this builds a stack in
``Testing.app()``, lets ``build`` fill it, and returns the parsed JSON of
``Testing.synth(stack)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cdktf import TerraformStack, Testing

from modules.provider import aws_provider
from tools.policy.stack_json import StackJson


def synth_scope(build: Callable[[TerraformStack], Any], *, region: str = "us-east-1",
                tags: dict[str, str] | None = None) -> StackJson:
    app = Testing.app()
    stack = TerraformStack(app, "test")
    aws_provider(stack, region=region, tags=tags or {"Project": "test"})
    build(stack)
    return StackJson("test", Path("."), json.loads(Testing.synth(stack)))
