"""The price table: us-east-1 list prices, dated, each with the AWS pricing page it comes from."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from tools.cost.errors import CostInputError

DEFAULT_PRICES = Path(__file__).with_name("prices.json")
REQUIRED = (
    "lambda_requests_per_million", "lambda_gb_second_arm64", "lambda_gb_second_x86_64",
    "lambda_provisioned_gb_second_arm64", "lambda_provisioned_gb_second_x86_64",
    "lambda_provisioned_duration_gb_second_arm64", "lambda_provisioned_duration_gb_second_x86_64",
    "sqs_standard_requests_per_million",
    "dynamodb_on_demand_write_per_million", "dynamodb_on_demand_read_per_million",
    "dynamodb_wcu_hour", "dynamodb_rcu_hour", "dynamodb_storage_gb_month", "dynamodb_pitr_gb_month",
    "logs_ingestion_gb", "logs_storage_gb_month",
    "alarm_standard_month", "alarm_high_resolution_month", "dashboard_month",
    "kms_key_month", "kms_requests_per_10k",
)


@dataclass(frozen=True)
class Prices:
    """Unit prices in USD by name, the date they were checked and the region they apply to."""

    region: str
    checked: dt.date
    usd: dict[str, float]
    sources: dict[str, str]

    def __getitem__(self, name: str) -> float:
        return self.usd[name]


def load_prices(path: Path = DEFAULT_PRICES) -> Prices:
    """Read and check a price file; every price must be a non-negative number with a named source."""
    try:
        document = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise CostInputError(f"{path}: cannot read the price table ({error})") from None
    try:
        checked = dt.date.fromisoformat(str(document.get("checked")))
    except ValueError:
        raise CostInputError(f"{path}: 'checked' must be the date the prices were checked, as YYYY-MM-DD, "
                             f"not {document.get('checked')!r}") from None
    entries = document.get("prices", {})
    missing = [name for name in REQUIRED if name not in entries]
    if missing:
        raise CostInputError(f"{path}: prices missing: {', '.join(missing)}; add each with 'usd' and 'source'")
    usd: dict[str, float] = {}
    sources: dict[str, str] = {}
    for name, entry in entries.items():
        value = entry.get("usd") if isinstance(entry, dict) else None
        source = entry.get("source") if isinstance(entry, dict) else None
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise CostInputError(f"{path}: prices.{name}.usd must be a non-negative number, not {value!r}")
        if not isinstance(source, str) or not source.startswith("https://aws.amazon.com/"):
            raise CostInputError(f"{path}: prices.{name}.source must name the AWS pricing page "
                                 f"(https://aws.amazon.com/...), not {source!r}")
        usd[name], sources[name] = float(value), source
    return Prices(region=str(document.get("region", "")), checked=checked, usd=usd, sources=sources)
