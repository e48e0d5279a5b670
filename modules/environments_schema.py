"""The environments file's schema as Markdown, generated from the settings dataclasses.

``python -m modules.environments_schema > docs/configuration-reference.md`` (installed: ``python -m
tap_pipeline.environments_schema``). Every key comes from :func:`.environments_file.table_shape`, its type from
the field's type, its default from the field's default, what it is and its range from the field's
``doc`` and ``allowed`` metadata (:func:`.settings._setting`), the variables from
:data:`.environments_file.VARIABLES`; tests/unit/test_environments_schema.py checks the committed file against
this output, and each documented range against the validation.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import MISSING, Field, fields
from typing import Any

from .ci_settings import CI_STACK_NAME, CiIdentitiesSettings
from .environments_file import STR_MAP, VARIABLES, ci_shape, environment_shape, state_shape, type_name
from .settings import (
    REQUIRED_TAGS,
    STAGE_DEFAULTS,
    STAGES,
    AutoscalingSettings,
    BackendSettings,
    EnvironmentSettings,
    FunctionSettings,
    MonitoringSettings,
    ReleaseSettings,
    ReviewSettings,
    TableSettings,
)

# Where a key's effective default is not its field's default: derived from other settings, or read elsewhere.
DERIVED_DEFAULTS = {
    "state.bucket": "`<project>-pipeline-tfstate-<account_id>-<region>`",
    "state.lock_table": "`<project>-pipeline-terraform-locks`",
    "state.kms_key_alias": "`<project>-pipeline-tfstate`",
    "state.account_id": "TAP_AWS_ACCOUNT_ID",
    "state.tags": "`[defaults.tags]`, with `Environment = \"shared\"`",
    "account_id": "TAP_AWS_ACCOUNT_ID",
    "tags": "`Environment` = the environment's name",
    "ci.deploy_environments": "every environment with `backend.kind = \"s3\"`",
    "ci.plan_environments": "`plan-<name>` of every environment with `backend.kind = \"s3\"`",
    "ci.tags": "none (the stack's tags are `[defaults.tags]`, with `Environment = \"ci\"`)",
}
_TOP_LEVEL_ROWS = (
    ("project", "string", "`\"tap\"`", "2-10 lowercase letters or digits, starting with a letter",
     "the prefix of every AWS name (IAM names are account-wide, and projects may share an account)"),
    ("preview_from", "string", "none (no previews)", "a declared environment",
     "ENVIRONMENT_SUFFIX=<suffix> adds a preview environment on this environment's settings"),
)


def _field(owner: type, name: str) -> Field[Any]:
    return next(f for f in fields(owner) if f.name == name)


def _default(f: Field[Any], key: str) -> str:
    if key in DERIVED_DEFAULTS:
        return DERIVED_DEFAULTS[key]
    if f.default is MISSING:
        return "required"
    value = f.default
    if value is None:
        return "none"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f"`\"{value}\"`"
    if isinstance(value, tuple):
        return "`[" + ", ".join(f'"{v}"' for v in value) + "]`"
    return f"`{value}`"


def _rows(shape: dict[str, Any], owner: type, path: str) -> Iterator[Row]:
    for name, child in shape.items():
        key = f"{path}.{name}" if path else name
        if owner is EnvironmentSettings and name == "functions":
            for field_name, hint in child[STAGES[0]].items():
                f = _field(FunctionSettings, field_name)
                default = _default(f, field_name)
                changed = [f"{stage}: `{changes[field_name]}`" for stage, changes in STAGE_DEFAULTS.items()
                           if field_name in changes]
                yield (f"functions.<stage>.{field_name}", type_name(hint),
                       default + (f" ({', '.join(changed)})" if changed else ""),
                       f.metadata.get("allowed", ""), f.metadata["doc"])
            continue
        if isinstance(child, dict):
            sub_owner = {"table": TableSettings, "monitoring": MonitoringSettings, "backend": BackendSettings,
                         "review": ReviewSettings, "release": ReleaseSettings,
                         "read_autoscaling": AutoscalingSettings, "write_autoscaling": AutoscalingSettings}[name]
            yield from _rows(child, sub_owner, key)
            continue
        f = _field(owner, name)
        doc, allowed = f.metadata["doc"], f.metadata.get("allowed", "")
        if child is STR_MAP:
            yield f"{key}.<Tag>", "string", DERIVED_DEFAULTS.get(key, "none"), allowed, doc
            continue
        yield key, type_name(child), _default(f, key), allowed, doc


Row = tuple[str, str, str, str, str]


def _table(rows: Iterable[Row]) -> list[str]:
    """key, type, default, allowed (– when any value of the type is), what it is."""
    lines = ["| key | type | default | allowed | what it is |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| `{key}` | {kind} | {default} | {allowed or '–'} | {doc} |"
              for key, kind, default, allowed, doc in rows]
    return lines


def schema_markdown() -> str:
    ci_rows = list(_rows(ci_shape(), CiIdentitiesSettings, "ci"))
    state_rows = list(_rows({k: v for k, v in state_shape().items() if k != "tags"}, BackendSettings, "state"))
    state_rows.append(("state.tags.<Tag>", "string", DERIVED_DEFAULTS["state.tags"], "",
                       "tags of the bootstrap stack's bucket, lock table and key"))
    lines = [
        "# environments.toml",
        "",
        "<!-- Generated by `python -m modules.environments_schema > docs/configuration-reference.md` from the settings "
        "dataclasses; tests/unit/test_environments_schema.py fails when it differs. -->",
        "",
        "The environments `main.py` synthesizes, as data: one `[environments.<name>]` table per environment, "
        "each making the stack `tap-pipeline-<name>`, in the file's order. An environment's settings are the "
        "library's defaults (the defaults below), then `[defaults]`, then its own table, then the environment "
        "variables at the end of this page. Nested keys are TOML tables or dotted keys: "
        "`table.deletion_protection = false`, or `[environments.prod.functions.processor]`. "
        "`false` turns off a setting whose type says `or false`. A key the library does not know, a value of "
        "the wrong type or out of its range stops synthesis before anything is built, with every problem "
        "at once, each naming the file and the key (or the environment variable) it came from.",
        "",
        "## Top level",
        "",
        *_table(_TOP_LEVEL_ROWS),
        "",
        "## `[state]`: where the S3-backed stacks keep their Terraform state",
        "",
        "One bucket, lock table and KMS key, made by the bootstrap stack `tap-pipeline-state`; every "
        "environment with `backend.kind = \"s3\"` keeps its state there, under `<name>/tap-pipeline-<name>.tfstate`.",
        "",
        *_table(tuple(state_rows)),
        "",
        f"## `[ci]`: the identities GitHub Actions assumes (the stack `{CI_STACK_NAME}`)",
        "",
        "Optional. With it, `main.py` also synthesizes the stack (TAP_STACKS=ci alone), which an administrator "
        "plans and applies (`make plan ENV=ci`, `make apply ENV=ci`): GitHub's OIDC provider, a plan role and a "
        "deploy role in the account of `[state]`, for every environment with `backend.kind = \"s3\"`, trusting "
        "only this repository's jobs. Its outputs are the workflows' `vars.AWS_PLAN_ROLE_ARN` and "
        "`vars.AWS_DEPLOY_ROLE_ARN` ([CI identities](deploying.md#ci-identities)). The file's `project` and the "
        "environments' `Project` tag scope the deploy role.",
        "",
        *_table(tuple(ci_rows)),
        "",
        "## `[defaults]` and `[environments.<name>]`",
        "",
        f"`<stage>` is one of {', '.join(STAGES)}; `<Tag>` any tag name ({', '.join(REQUIRED_TAGS)} are "
        "required, and the environment's `Environment` tag is its name unless it sets one).",
        "",
        *_table(_rows(environment_shape(), EnvironmentSettings, "")),
        "",
        "## Environment variables",
        "",
        "Read by `main.py` (and the tools that run it); empty ones count as unset.",
        "",
        "| variable | what it does |",
        "| --- | --- |",
        *[f"| `{name}` | {what} |" for name, what in VARIABLES.items()],
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    sys.stdout.write(schema_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
