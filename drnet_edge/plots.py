"""Results for people as a chart: top-1 against cost (MACs for eval, latency for the bench), one point
per policy."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ._io import atomic_write
from .errors import DataError

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def plot_skip_reason(report: dict, x_key: str | None = None) -> str | None:
    """Why :func:`save_plot` would draw an empty chart (``None`` when there is something to plot)."""
    pols = report.get("policies") or {}
    top1 = [v for v in pols.values() if v.get("top1") is not None]
    if not pols:
        return "there are no policy results to plot"
    if not top1:
        return (
            "the images are unlabelled (a flat folder), so there is no top-1 to plot against cost; "
            "use class folders for a chart"
        )
    if x_key is not None and not any(v.get(x_key) is not None for v in top1):
        return f"no policy has a measured {x_key}"
    return None


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

    reason = plot_skip_reason(report, x_key)
    if reason:
        raise DataError(f"nothing to plot: {reason}")
    policies = {k: v for k, v in report["policies"].items() if v.get("top1") is not None and v.get(x_key) is not None}
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=120)
    fixed = sorted(((v[x_key], 100 * v["top1"], k) for k, v in policies.items() if k.startswith("fixed-")))
    if fixed:
        ax.plot([f[0] for f in fixed], [f[1] for f in fixed], "-o", color="tab:blue", label="fixed resolution")
        for j, (x, y, k) in enumerate(fixed):  # labels alternate below and above, so neighbours do not overlap
            ax.annotate(
                k.removeprefix("fixed-"),
                (x, y),
                textcoords="offset points",
                xytext=(4, -10 if j % 2 else 5),
                fontsize=8,
            )
    others = [(k, v) for k, v in policies.items() if not k.startswith("fixed-")]
    markers = "DsP^vX*"
    for i, (k, v) in enumerate(others):
        color = f"C{(i + 1) % 10}"
        control = bool(v.get("control_of")) or k.startswith("random")
        hollow = v.get("upper_bound") or control
        label = f"{k} (upper bound)" if v.get("upper_bound") else k
        # controls and bounds: large hollow rings underneath, so a policy at the same point stays visible
        ax.scatter(
            [v[x_key]],
            [100 * v["top1"]],
            s=130 if hollow else 55,
            marker="o" if control else markers[i % len(markers)],
            facecolors="none" if hollow else color,
            edgecolors=color,
            linewidths=1.5,
            label=label,
            zorder=2 if hollow else 3,
        )
    ax.set_xlabel(x_label)
    ax.set_ylabel("top-1 (%)")
    ax.set_title(title or f"{report['backbone']}, n={report['n']}", fontsize=9 if title else None)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    _warnings_footnote(fig, report.get("warnings") or ())
    path = Path(path)
    atomic_write(path, lambda p: fig.savefig(p, format=path.suffix.lstrip(".") or "png"))
    plt.close(fig)
    return path


def _warnings_footnote(fig: Figure, warnings: list[str] | tuple[str, ...], width: int = 115) -> None:
    """The report's warnings (a busy machine, say) under the chart, which grows to hold them: a chart
    passed on alone still says its numbers may not hold."""
    import textwrap

    if not warnings:
        fig.tight_layout()
        return
    text = "\n".join(textwrap.fill(f"warning: {w}", width) for w in warnings)
    extra = 0.13 * (text.count("\n") + 1) + 0.1  # inches: ~6.5 pt lines
    w_in, h_in = fig.get_size_inches()
    fig.set_size_inches(w_in, h_in + extra)
    fig.text(0.015, 0.01, text, fontsize=6.5, color="tab:red", ha="left", va="bottom")
    fig.tight_layout(rect=(0, extra / (h_in + extra), 1, 1))
