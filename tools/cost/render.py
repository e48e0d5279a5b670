"""The estimates as a terminal table or Markdown: one table per configuration, a column per scale."""

from __future__ import annotations

from tools.cost.compare import Comparison
from tools.cost.model import Estimate
from tools.cost.usage import STAGES


def _usd(estimate: Estimate, service: str, item: str) -> float:
    return sum(x.usd for x in estimate.lines if (x.service, x.item.split(":")[0]) == (service, item))


def table(header: list[str], rows: list[list[str]], markdown: bool) -> list[str]:
    """Lines of a table whose first column is a label and the others figures (right-aligned)."""
    if markdown:
        return ["| " + " | ".join(header) + " |", "| --- |" + " ---: |" * (len(header) - 1),
                *("| " + " | ".join(row) + " |" for row in rows)]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def aligned(row: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))

    return [aligned(header), "  ".join("-" * w for w in widths), *map(aligned, rows)]


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
        out += table(header, _rows(estimates), markdown)
        out.append("")
        for estimate in estimates:
            out += [f"{'- ' if markdown else '! '}{flag}" for flag in estimate.flags]
        if any(e.flags for e in estimates):
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def _ratio(ours: float, draft: float) -> str:
    """How many times the draft's cost is ``ours`` ('0.6x': the draft is the cheaper)."""
    return "-" if ours == 0 else f"{draft / ours:.1f}x"


def render_comparison(comparison: Comparison, markdown: bool) -> str:
    """Each purpose both bills pay for with both costs and the ratio, their subtotal, then what one side only buys."""
    name = comparison.config
    header = [f"{name} vs draft, {comparison.events / 1e6:g} M events (USD/month)", name, "draft", f"draft / {name}"]
    rows = [[p, f"{o:,.2f}", f"{d:,.2f}", _ratio(o, d)] for p, (o, d) in comparison.shared.items()]
    rows.append(["what both pay for", f"{comparison.shared_ours:,.2f}", f"{comparison.shared_draft:,.2f}",
                 _ratio(comparison.shared_ours, comparison.shared_draft)])
    rows += [[f"only {name}: {p}", f"{usd:,.2f}", "-", ""] for p, usd in comparison.only_ours.items()]
    rows += [[f"only the draft: {p}", "-", f"{usd:,.2f}", ""] for p, usd in comparison.only_draft.items()]
    rows.append(["total", f"{comparison.total_ours:,.2f}", f"{comparison.total_draft:,.2f}",
                 _ratio(comparison.total_ours, comparison.total_draft)])
    return "\n".join(table(header, rows, markdown)) + "\n"
