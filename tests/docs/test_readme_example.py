"""The README's "Use it in your project" shows the example app the package test runs, and the HCL that calls the
generated module (which tests/module checks against the module), as they are."""

from __future__ import annotations

import re
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_shows_the_example_file_as_it_is() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("## Use it in your project\n", 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"^```python\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)
    assert block == (PROJECT_ROOT / "examples" / "cdktf-python" / "main.py").read_text()


def test_the_readme_shows_the_hcl_example_as_it_is() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("## Use it in your project\n", 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"^```hcl\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)
    assert block == (PROJECT_ROOT / "examples" / "terraform" / "main.tf").read_text()
