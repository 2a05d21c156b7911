"""Bench results on screen: the policies' table, the per-model table and the top operators, each fitted
to the console's width; the cells and title the Markdown report and the plot share."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Table

from drnet_edge.policy.rows import paired_text


def cell(v: float | None, fmt: str, suffix: str = "") -> str:
    return "n/a" if v is None else f"{v:{fmt}}{suffix}"


def _ratio(p: dict, stat: str) -> str:
    r = (p.get("latency_ratio_vs_ref") or {}).get(stat)
    if r is None:
        return cell(p.get("latency_vs_ref"), ".2f", "x") if stat == "mean" else "n/a"
    lo, hi = r["ci95"]
    return f"{r['ratio']:.2f}x [{lo:.2f}-{hi:.2f}]"


def policy_rows(report: dict) -> list[list[str]]:
    rows = []
    for name, p in report["policies"].items():
        mix = " ".join(f"{r}:{100 * s:.0f}%" for r, s in p["resolution_share"].items() if s > 0)
        label = f"{name} (default)" if name == report.get("default_policy") else name
        pre = p.get("preprocess_p50_ms")
        share = p.get("preprocess_share_of_p50")
        rows.append(
            [
                label,
                cell(None if p["top1"] is None else 100 * p["top1"], ".1f", "%"),
                paired_text(p.get("vs_fixed_frontier")),
                cell(p["latency_ms"], ".2f"),
                cell(p.get("latency_p50_ms"), ".2f"),
                _ratio(p, "mean"),
                _ratio(p, "median"),
                "n/a" if pre is None else f"{pre:.2f} ({100 * share:.0f}%)" if share else f"{pre:.2f}",
                f"{100 * p['escalation_rate']:.0f}%" if p.get("escalation_rate") else "",
                cell(p["energy_mj"], ".2f"),
                cell(p["macs_m"], ".0f"),
                mix,
            ]
        )
    return rows


COLUMNS = [
    "policy",
    "top-1",
    "vs fixed frontier (SE)",
    "mean ms",
    "p50 ms",
    "mean vs ref [95% CI]",
    "p50 vs ref [95% CI]",
    "preproc p50 ms (share)",
    "escalated",
    "energy mJ",
    "MACs (M)",
    "answered at",
]


def title(report: dict) -> str:
    dev = report["device"]
    where = dev.get("model") or dev.get("cpu") or dev["name"]
    borrowed = "".join(f", {r} px pass from {p['model']}" for r, p in (report.get("passes") or {}).items())
    return (
        f"{report['backbone']} {report['runtime']} {report['precision']}{borrowed} on {dev['name']} ({where}), "
        f"{report['threads']} threads, n={report['n']}"
    )


# left out in this order when the console is too narrow for every column (after those with no value at
# all): the policy name stays whole, with top-1, the median and its ratio to the reference
NARROW_DROP = (
    "energy mJ",
    "preproc p50 ms (share)",
    "answered at",
    "mean vs ref [95% CI]",
    "vs fixed frontier (SE)",
    "mean ms",
    "escalated",
    "MACs (M)",
)
MODEL_COLUMNS = ("model", "mean ms", "p50 ms", "p90 ms", "std ms", "runs", "load ms", "peak MB", "energy mJ")
MODEL_NARROW_DROP = ("energy mJ", "peak MB", "std ms", "p90 ms", "runs", "mean ms")


class FittedTable:
    """A table fitted to the console when it is rendered: every column when they fit, else the least
    important (``drop``, after any with no value at all) are left out, so the first column, a policy's
    or model's name (a cascade's thresholds), is never cut. The JSON and Markdown reports keep them all."""

    def __init__(
        self, title: str, columns: tuple[str, ...], rows: list[list[str]], drop: tuple[str, ...], caption: str = ""
    ) -> None:
        self.title, self.columns, self.rows, self.drop, self.caption = title, columns, rows, drop, caption

    def table(self, left_out: list[str]) -> Table:
        """The table without the columns ``left_out``."""
        keep = [k for k, c in enumerate(self.columns) if c not in left_out]
        caption = self.caption
        if left_out:
            caption += f"\n{len(left_out)} columns left out at this width (--report and --json hold them all)"
        table = Table(title=self.title, caption=caption.strip() or None)
        for k in keep:
            name = self.columns[k]
            table.add_column(name, justify="left" if k == 0 or name == "answered at" else "right", no_wrap=k == 0)
        for row in self.rows:
            table.add_row(*(row[k] for k in keep))
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        empty = [c for k, c in enumerate(self.columns) if k and all(r[k] in ("", "n/a") for r in self.rows)]
        drop = [*empty, *(c for c in self.drop if c not in empty)]
        left_out: list[str] = []
        unbounded = options.update_width(10**4)  # a table measures no wider than the options allow
        while drop and Measurement.get(console, unbounded, self.table(left_out)).maximum > options.max_width:
            left_out.append(drop.pop(0))
        yield self.table(left_out)


def bench_table(report: dict) -> FittedTable:
    """The results table on screen, fitted to the console's width (see :class:`FittedTable`)."""
    return FittedTable(title(report), tuple(COLUMNS), policy_rows(report), NARROW_DROP)


def model_table(report: dict) -> FittedTable:
    """The per-model table on screen, fitted to the console's width."""
    notes = []
    if report.get("runtime_init_ms") is not None:
        notes.append(f"load ms: the model's own; the runtime's import and set-up ({report['runtime_init_ms']:.0f} ms) "
                     "came first, untimed")  # fmt: skip
    rss = report.get("process_peak_rss_mb")
    if rss is not None and all(m.get("peak_memory_mb") is None for m in report["models"].values()):
        notes.append(f"peak MB: not reported per model by the Python runtimes; process peak RSS {rss:.0f} MB")
    rows = []
    for name, m in report["models"].items():
        lat = m["latency"]
        cells = (lat["mean_ms"], lat.get("p50_ms"), lat.get("p90_ms"), lat.get("std_ms"))
        rows.append(
            [name, *(cell(c, ".2f") for c in cells), str(lat["runs"]), cell(m.get("load_ms"), ".0f"),
             cell(m.get("peak_memory_mb"), ".1f"), cell(m.get("energy_mj"), ".2f")]
        )  # fmt: skip
    return FittedTable("per model (one image, after warm-up)", MODEL_COLUMNS, rows, MODEL_NARROW_DROP, "\n".join(notes))


def op_rows(report: dict, top: int = 3) -> list[list[str]]:
    """Per model its ``top`` operator types by time: model, operator, ms, share (or why there is none)."""
    prof = report.get("op_profile") or {}
    if prof.get("absent"):
        return [["all", f"absent: {prof['absent']}", "", ""]]
    rows = []
    for name, m in (prof.get("models") or {}).items():
        if m.get("absent"):
            rows.append([name, f"absent: {m['absent']}", "", ""])
        for k, op in enumerate(m.get("ops", [])[:top]):
            rows.append([name if k == 0 else "", op["op"], f"{op['ms']:.3f}", f"{100 * op['share']:.0f}%"])
    return rows


def op_profile_table(report: dict) -> FittedTable | None:
    """``--op-profile``'s short table on screen: per model its three costliest operator types."""
    if "op_profile" not in report:
        return None
    source = (report["op_profile"] or {}).get("source") or "no profiler"
    return FittedTable(f"top operators per model ({source})", ("model", "operator", "ms/run", "share"),
                       op_rows(report), ("share",))  # fmt: skip
