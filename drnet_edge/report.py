"""Presenting results: a table on screen, JSON for machines, a plot for people."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from ._io import atomic_write, atomic_write_json


def policy_table(report: dict, title: str | None = None) -> Table:
    """A rich table of an eval report's JSON: one row per policy, with MACs relative to the largest fixed."""
    policies = report["policies"]
    ref_name = f"fixed-{max(report['resolutions'])}"
    ref = policies.get(ref_name, {}).get("macs_m")
    table = Table(title=title or f"{report['backbone']} on {report['n']} images ({report.get('data', '')})")
    for col, just in (
        ("policy", "left"),
        ("top-1", "right"),
        ("MACs (M)", "right"),
        (f"vs {ref_name}", "right"),
        ("resolution mix", "left"),
    ):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for name, p in policies.items():
        top1 = "n/a" if p["top1"] is None else f"{100 * p['top1']:.1f}%"
        rel = f"{p['macs_m'] / ref:.2f}x" if ref else ""
        mix = " ".join(f"{r}:{100 * s:.0f}%" for r, s in p["resolution_share"].items() if s > 0)
        label = f"{name} (upper bound)" if p.get("upper_bound") else name
        table.add_row(label, top1, f"{p['macs_m']:.1f}", rel, mix)
    return table


def save_json(path: str | Path, report: dict) -> Path:
    """Write the report atomically."""
    return atomic_write_json(path, report)


def save_plot(
    path: str | Path,
    report: dict,
    x_key: str = "macs_m",
    x_label: str = "mean MACs per image (M)",
    title: str | None = None,
) -> Path:
    """Top-1 against cost, one point per policy; fixed resolutions joined by a line; bounds hollow."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    policies = {k: v for k, v in report["policies"].items() if v.get("top1") is not None and v.get(x_key) is not None}
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=120)
    fixed = sorted(((v[x_key], 100 * v["top1"], k) for k, v in policies.items() if k.startswith("fixed-")))
    if fixed:
        ax.plot([f[0] for f in fixed], [f[1] for f in fixed], "-o", color="tab:blue", label="fixed resolution")
        for x, y, k in fixed:
            ax.annotate(k.removeprefix("fixed-"), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=8)
    others = [(k, v) for k, v in policies.items() if not k.startswith("fixed-")]
    for i, (k, v) in enumerate(others):
        color = f"C{(i + 1) % 10}"
        face = "none" if v.get("upper_bound") else color
        label = f"{k} (upper bound)" if v.get("upper_bound") else k
        ax.scatter(
            [v[x_key]], [100 * v["top1"]], s=60, marker="D", facecolors=face, edgecolors=color, label=label, zorder=3
        )
    ax.set_xlabel(x_label)
    ax.set_ylabel("top-1 (%)")
    ax.set_title(title or f"{report['backbone']}, n={report['n']}", fontsize=9 if title else None)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    path = Path(path)
    atomic_write(path, lambda p: fig.savefig(p, format=path.suffix.lstrip(".") or "png"))
    plt.close(fig)
    return path
