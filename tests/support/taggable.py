"""Which resource types can carry tags, from the provider bindings."""

from __future__ import annotations

import importlib
import inspect
from functools import cache


@cache
def is_taggable(resource_type: str) -> bool:
    """Whether the provider schema gives ``resource_type`` a ``tags`` argument, read from the generated
    provider bindings (made from that schema), so the fast tests need no ``terraform providers schema``."""
    module = importlib.import_module(f"cdktf_cdktf_provider_aws.{resource_type.removeprefix('aws_')}")
    [binding] = [c for c in vars(module).values()
                 if isinstance(c, type) and getattr(c, "TF_RESOURCE_TYPE", None) == resource_type]
    return "tags" in inspect.signature(binding.__init__).parameters
