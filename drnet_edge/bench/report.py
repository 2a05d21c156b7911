"""Bench results for people: a table on screen, a Markdown report, a plot of top-1 against latency."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from .._io import atomic_write_text
from ..report import save_plot


def _f(v: float | None, fmt: str, suffix: str = "") -> str:
    return "n/a" if v is None else f"{v:{fmt}}{suffix}"


def _rows(report: dict) -> list[list[str]]:
    rows = []
    for name, p in report["policies"].items():
        mix = " ".join(f"{r}:{100 * s:.0f}%" for r, s in p["resolution_share"].items() if s > 0)
        rows.append(
            [
                name,
                _f(None if p["top1"] is None else 100 * p["top1"], ".1f", "%"),
                _f(p["latency_ms"], ".2f"),
                _f(p.get("latency_p90_ms"), ".2f"),
                _f(p.get("latency_vs_ref"), ".2f", "x"),
                _f(p["energy_mj"], ".2f"),
                _f(p.get("energy_vs_ref"), ".2f", "x"),
                _f(p["macs_m"], ".0f"),
                mix,
            ]
        )
    return rows


COLUMNS = ["policy", "top-1", "latency ms", "p90 ms", "vs ref", "energy mJ", "vs ref", "MACs (M)", "resolution mix"]


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
    methods = {p.get("method") for p in report["policies"].values()}
    lines += [f"- Policy figures: {m}" for m in sorted(m for m in methods if m)]
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
