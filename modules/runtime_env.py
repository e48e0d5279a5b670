"""Process settings the jsii runtime needs before cdktf is imported."""

from __future__ import annotations

import os
import shutil
import subprocess


def silence_node_eol_banner() -> None:
    """jsii prints a Node.js end-of-life banner on every run unless this variable names the running major version."""
    if "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION" in os.environ:
        return
    node = shutil.which("node")
    if node is None:
        return
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    major = version.lstrip("v").split(".", 1)[0]
    if major.isdigit():
        os.environ["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = major
