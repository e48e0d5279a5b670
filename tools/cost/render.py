"""The estimates as a terminal table or Markdown: one table per configuration, a column per scale."""

from __future__ import annotations

from tools.cost.model import Estimate
from tools.cost.usage import STAGES


def _usd(estimate: Estimate, service: str, item: str) -> float:
    return sum(x.usd for x in estimate.lines if (x.service, x.item.split(":")[0]) == (service, item))


def _format(row: list[str], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))


def _rows(estimates: list[Estimate]) -> list[list[str]]:
    items: list[tuple[str, str]] = []
    for estimate in estimates:
        for line in estimate.lines:
            key = (line.service, line.item.split(":")[0])
            if key not in items:
                items.append(key)
    rows = [[f"{service} {item}"] + [f"{_usd(e, service, item):,.2f}" for e in estimates] for service, item in items]
    rows.append(["total"] + [f"{e.total:,.2f}" for e in estimates])
    rows.append(["per million events"] + [f"{e.per_million_events:,.2f}" for e in estimates])
    rows.append(["largest line"] + [e.dominant().service + " " + e.dominant().item.split(":")[0] for e in estimates])
    rows.append(["records per invocation"] + [
        "/".join(f"{e.records_per_invocation[s]:.1f}" for s in STAGES) for e in estimates])
    return rows


def render(estimates_by_config: dict[str, list[Estimate]], markdown: bool) -> str:
    """Every configuration's bill, USD a month, at each scale; then the flags."""
    out: list[str] = []
    for name, estimates in estimates_by_config.items():
        header = [f"{name} (USD/month)"] + [f"{e.events / 1e6:g} M events" for e in estimates]
        rows = _rows(estimates)
        if markdown:
            out.append("| " + " | ".join(header) + " |")
            out.append("| --- |" + " ---: |" * len(estimates))
            out += ["| " + " | ".join(row) + " |" for row in rows]
        else:
            widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
            out += [_format(header, widths), "  ".join("-" * w for w in widths)] + [_format(r, widths) for r in rows]
        out.append("")
        for estimate in estimates:
            out += [f"{'- ' if markdown else '! '}{flag}" for flag in estimate.flags]
        if any(e.flags for e in estimates):
            out.append("")
    return "\n".join(out).rstrip() + "\n"
