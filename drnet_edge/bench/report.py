"""Bench results for people: a table on screen, a Markdown report, a plot of top-1 against latency."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from .._io import atomic_write_text
from ..report import save_plot


def _f(v: float | None, fmt: str, suffix: str = "") -> str:
    return "n/a" if v is None else f"{v:{fmt}}{suffix}"


def _ratio(p: dict, stat: str) -> str:
    r = (p.get("latency_ratio_vs_ref") or {}).get(stat)
    if r is None:
        return _f(p.get("latency_vs_ref"), ".2f", "x") if stat == "mean" else "n/a"
    lo, hi = r["ci95"]
    return f"{r['ratio']:.2f}x [{lo:.2f}-{hi:.2f}]"


def _vs(d: dict | None) -> str:
    return "" if not d else f"{d['delta_pts']:+.1f} ({d['se_pts']:.1f})"


def _rows(report: dict) -> list[list[str]]:
    rows = []
    for name, p in report["policies"].items():
        mix = " ".join(f"{r}:{100 * s:.0f}%" for r, s in p["resolution_share"].items() if s > 0)
        label = f"{name} (default)" if name == report.get("default_policy") else name
        pre = p.get("preprocess_p50_ms")
        share = p.get("preprocess_share_of_p50")
        rows.append(
            [
                label,
                _f(None if p["top1"] is None else 100 * p["top1"], ".1f", "%"),
                _vs(p.get("vs_fixed_frontier")),
                _f(p["latency_ms"], ".2f"),
                _f(p.get("latency_p50_ms"), ".2f"),
                _ratio(p, "mean"),
                _ratio(p, "median"),
                "n/a" if pre is None else f"{pre:.2f} ({100 * share:.0f}%)" if share else f"{pre:.2f}",
                f"{100 * p['escalation_rate']:.0f}%" if p.get("escalation_rate") else "",
                _f(p["energy_mj"], ".2f"),
                _f(p["macs_m"], ".0f"),
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
    return (
        f"{report['backbone']} {report['runtime']} {report['precision']} on {dev['name']} ({where}), "
        f"{report['threads']} threads, n={report['n']}"
    )


def bench_table(report: dict) -> Table:
    table = Table(title=title(report))
    for col in COLUMNS:
        table.add_column(col, justify="left" if col in ("policy", "resolution mix") else "right")
    for row in _rows(report):
        table.add_row(*row)
    return table


def model_table(report: dict) -> Table:
    table = Table(title="per model (one image, after warm-up)")
    rss = report.get("process_peak_rss_mb")
    if rss is not None and all(m.get("peak_memory_mb") is None for m in report["models"].values()):
        table.caption = f"peak MB: not reported per model by the Python runtimes; process peak RSS {rss:.0f} MB"
    for col in ("model", "mean ms", "p50 ms", "p90 ms", "std ms", "runs", "load ms", "peak MB", "energy mJ"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for name, m in report["models"].items():
        lat = m["latency"]
        table.add_row(
            name,
            _f(lat["mean_ms"], ".2f"),
            _f(lat.get("p50_ms"), ".2f"),
            _f(lat.get("p90_ms"), ".2f"),
            _f(lat.get("std_ms"), ".2f"),
            str(lat["runs"]),
            _f(m.get("load_ms"), ".0f"),
            _f(m.get("peak_memory_mb"), ".1f"),
            _f(m.get("energy_mj"), ".2f"),
        )
    return table


def markdown(report: dict) -> str:
    """A self-contained Markdown report."""
    lines = [f"# drnet-edge bench: {title(report)}", ""]
    if report.get("incomplete"):
        lines += [f"**Incomplete run**: {report['incomplete']}", ""]
    lines += ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(r) + " |" for r in _rows(report)]
    lines += ["", "## Per model", "", "| model | mean ms | p50 ms | p90 ms | std ms | runs | load ms | peak MB |"]
    lines += ["|---|---|---|---|---|---|---|---|"]
    for name, m in report["models"].items():
        lat = m["latency"]
        cells = [lat["mean_ms"], lat.get("p50_ms"), lat.get("p90_ms"), lat.get("std_ms")]
        lines.append(
            f"| {name} | "
            + " | ".join(_f(c, ".2f") for c in cells)
            + f" | {lat['runs']} | {_f(m.get('load_ms'), '.0f')} | {_f(m.get('peak_memory_mb'), '.1f')} |"
        )
    dev = report["device"]
    lines += [
        "",
        "## How this was measured",
        "",
        f"- Device: {', '.join(f'{k}={v}' for k, v in dev.items() if k != 'profile' and v)}",
        f"- Runtime: {report['runtime']} ({report['precision']}), {report['threads']} threads; artifacts `{report['artifacts']}`",
        f"- Images: {report['n']} from `{report['data']}`; warm-up {report['warmup']}, runs per model {report['runs']}",
        f"- Schedule: {report['schedule']}",
        f"- Reference for ratios: {report.get('reference')} (same run)",
        f"- Energy: {report['energy']['note']}",
    ]
    methods: dict[str, list[str]] = {}
    for name, p in report["policies"].items():
        if p.get("method"):
            methods.setdefault(p["method"], []).append(name)
    if len(methods) == 1:
        lines.append(f"- Policy figures: {next(iter(methods))}")
    elif methods:
        lines.append("- Policy figures:")
        lines += [f"  - {', '.join(names)}: {m}" for m, names in methods.items()]
    if report.get("accuracy_source"):
        lines.append(f"- Accuracy: {report['accuracy_source']}")
    return "\n".join(lines) + "\n"


def save_markdown(path: str | Path, report: dict) -> Path:
    return atomic_write_text(path, markdown(report))


def save_latency_plot(path: str | Path, report: dict) -> Path:
    """Top-1 against mean latency per image, fixed resolutions joined by a line."""
    return save_plot(
        path, report, x_key="latency_ms", x_label="mean end-to-end latency per image (ms)", title=title(report)
    )
