"""docs/configuration.md's environments table says what the shipped environments.toml sets (a test of that file:
edit a value there, and this asks for the table to follow), docs/architecture.md and the README's picture its
redrive and DLQ retention."""

from __future__ import annotations

import re
from pathlib import Path

from modules.settings import STAGES, BillingMode, EnvironmentSettings
from tests.support.environments import shipped

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIGURATION = PROJECT_ROOT / "docs" / "configuration.md"
ARCHITECTURE = PROJECT_ROOT / "docs" / "architecture.md"
ROWS = ("memory (validator / enricher / processor)", "reserved / max concurrency", "provisioned concurrency", "table",
        "log retention", "deletion protection", "customer-managed encryption of data", "alarm subscriber", "state")


def on_off(value: bool) -> str:
    return "on" if value else "off"


def cells(settings: EnvironmentSettings) -> dict[str, str]:
    """Each row's cell for one environment, as docs/configuration.md writes it."""
    functions = settings.functions
    concurrency = {(f.reserved_concurrency, f.max_concurrency) for f in functions.values()}
    [(reserved, maximum)] = concurrency  # every stage alike, as the table has one cell for all three
    table = settings.table
    if table.billing_mode is BillingMode.PROVISIONED:
        read, write = table.read_autoscaling, table.write_autoscaling
        table_cell = (f"provisioned, autoscaling {read.min_capacity}–{read.max_capacity} reads, "
                      f"{write.min_capacity}–{write.max_capacity} writes, {read.target_utilization:g} %")
    else:
        table_cell = "on-demand"
    warm = [f"{stage}: {f.provisioned_concurrency}" for stage, f in functions.items() if f.provisioned_concurrency]
    days = settings.log_retention_days
    return {
        "memory (validator / enricher / processor)": " / ".join(str(functions[s].memory_mb) for s in STAGES) + " MB",
        "reserved / max concurrency": f"{'unreserved' if reserved is None else reserved} / {maximum}",
        "provisioned concurrency": ", ".join(warm) or "–",
        "table": table_cell,
        "log retention": f"{days} day{'s' if days > 1 else ''}",
        "deletion protection": on_off(table.deletion_protection),
        "customer-managed encryption of data": on_off(settings.customer_managed_encryption),
        "alarm subscriber": "required" if settings.monitoring.require_subscriber else "–",
        "state": "S3 + DynamoDB lock" if settings.backend.kind == "s3" else "local disk",
    }


def test_the_environments_table_is_the_shipped_files() -> None:
    environments = shipped()
    readme = CONFIGURATION.read_text()
    header = [f"{n} / preview" if n == environments.preview_from else n for n in environments.names]
    assert f"| | {' | '.join(header)} |" in readme, "one column per shipped environment, in the file's order"
    table = dict(re.findall(r"^\| ([a-z /()-]+?) \| (.+) \|$", readme, flags=re.MULTILINE))
    by_environment = [cells(environments.environment(name)) for name in environments.names]
    for row in ROWS:
        assert table[row] == " | ".join(column[row] for column in by_environment), row


def test_the_architecture_states_the_shipped_redrive_and_dlq_retention() -> None:
    environments = shipped()
    receives = {f.max_receive_count for n in environments.names for f in environments.environment(n).functions.values()}
    days = {environments.environment(n).dlq_retention_s // 86400 for n in environments.names}
    [receive], [day] = receives, days
    assert f"redrive after {receive} receives, DLQ keeps {day} days" in ARCHITECTURE.read_text()


def test_the_readmes_picture_states_the_shipped_redrive() -> None:
    environments = shipped()
    [receive] = {f.max_receive_count for n in environments.names
                 for f in environments.environment(n).functions.values()}
    readme = (PROJECT_ROOT / "README.md").read_text()
    picture = readme.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert picture.count(f"-. after {receive} receives .->") == 3, "one arrow per dead-letter queue"
