"""Presenting results: a table on screen, JSON for machines, a plot for people."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table

from ._io import atomic_write, atomic_write_json
from .errors import DataError


def policy_table(report: dict, title: str | None = None) -> Table:
    """A rich table of an eval report's JSON: one row per policy, MACs relative to the largest fixed
    resolution, the share of images escalated, and each dynamic row against the fixed-resolution line."""
    policies = report["policies"]
    ref_name = f"fixed-{max(report['resolutions'])}"
    ref = policies.get(ref_name, {}).get("macs_m")
    table = Table(
        title=title
        or f"{report['backbone']} on {report['n']} image{'' if report['n'] == 1 else 's'} ({report.get('data', '')})"
    )
    for col, just in (
        ("policy", "left"),
        ("top-1", "right"),
        ("MACs (M)", "right"),
        (f"vs {ref_name}", "right"),
        ("escalated", "right"),
        ("vs fixed frontier (SE)", "right"),
        ("answered at", "left"),
    ):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for name, p in policies.items():
        top1 = "n/a" if p["top1"] is None else f"{100 * p['top1']:.1f}%"
        rel = f"{p['macs_m'] / ref:.2f}x" if ref else ""
        mix = " ".join(f"{r}:{100 * s:.0f}%" for r, s in p["resolution_share"].items() if s > 0)
        label = f"{name} (upper bound)" if p.get("upper_bound") else name
        if name == report.get("default_policy"):
            label = f"[bold]{label}[/] (default)"
        esc = f"{100 * p['escalation_rate']:.0f}%" if p.get("escalation_rate") else ""
        line = p.get("vs_fixed_frontier")
        vs = f"{line['delta_pts']:+.1f} ({line['se_pts']:.1f})" if line else ""
        table.add_row(label, top1, f"{p['macs_m']:.1f}", rel, esc, vs, mix)
    return table


def table_footer(report: dict) -> str:
    """The notes under the eval table: only those that apply to the rows shown."""
    from .data.folders import sample_dir

    notes = [report["classes"], f"skipped unreadable: {report['skipped_bad']['count']}"]
    if report.get("data") == str(sample_dir()):
        notes.append(
            "the bundled sample photos are training data for lite0-imagenet's predictor (and may overlap the photos its "
            "default policy was calibrated on): "
            "this table shows the tool working, not a held-out result (see README, Dynamic policies)"
        )
    pols = report["policies"]
    if any(p.get("upper_bound") for p in pols.values()):
        notes.append("oracle rows are upper bounds (they look at every resolution's output), not results")
    if any(p.get("escalation_rate") for p in pols.values()):
        notes.append("an escalated image pays for every pass it ran (MACs count all passes)")
    if any(p.get("control_of") for p in pols.values()):
        notes.append("random rows are chance-level controls: the same per-image decisions dealt at random")
    if any(p.get("vs_fixed_frontier") for p in pols.values()):
        notes.append(
            "'vs fixed frontier': points above the upper hull of the fixed resolutions (a random mix of two) "
            "at the same MACs, paired SE"
        )
    return "; ".join(notes) + "."


def calibration_table(result: Any) -> Table:
    """The Pareto front of the calibration candidates, the chosen one marked; each family's
    out-of-fold estimate and what to expect of the chosen policy in the caption."""
    rec = result.record
    cal = rec["calibration"]
    largest = cal["top1_largest"]
    src = cal.get("source", {})
    what = f"{src.get('runtime', 'pytorch')} {src.get('precision', '')}".strip()
    table = Table(title=f"calibration on {cal['n']} photos ({cal['data']}, {what}); scored by {cal['label_mode']}")
    for col in ("policy", "top-1", "drop (pts)", "MACs vs largest"):
        table.add_column(col, justify="left" if col == "policy" else "right")
    ref = 1e6 * cal["macs_m_largest"]
    rows = list(result.front)
    if all(c.name != rec["name"] for c in rows) and getattr(result, "chosen", None) is not None:
        rows = sorted([*rows, result.chosen], key=lambda c: c.macs)  # chosen within its family, off the front
    for c in rows:
        mark = " [bold green]<- chosen[/]" if c.name == rec["name"] else ""
        table.add_row(c.name + mark, f"{100 * c.top1:.1f}%", f"{c.drop_pts:+.2f}", f"{c.macs / ref:.2f}x")
    fams = "; ".join(
        f"{f}: {e['error']}" if "error" in e else
        f"{f} {100 * e['top1']:.1f}% ±{100 * e['top1_se']:.1f} at {e['macs_ratio']:.2f}x"
        for f, e in cal.get("families", {}).items()
    )  # fmt: skip
    exp = cal.get("expected")
    table.caption = (
        f"chosen: {rec['name']} (family {cal.get('family', '?')}): top-1 {100 * cal['top1']:.1f}% vs "
        f"{100 * largest:.1f}% at the largest resolution, {cal['macs_ratio']:.2f}x its MACs on these photos"
        + (
            f"; expected on new photos {100 * exp['top1']:.1f}% ±{100 * exp['top1_se']:.1f} at "
            f"{exp['macs_ratio']:.2f}x ±{exp['macs_ratio_se']:.2f} (out of fold)"
            if exp
            else ""
        )
        + (f". Families out of fold: {fams}" if fams else "")
        + f". Drop {cal['drop_pts']:+.2f} pts, 95% upper bound "
        f"{cal['drop_ucb95_pts']:.2f} ({cal['drop_ucb95_pts_all_candidates']:.2f} over all {cal['candidates']} "
        "candidates tried)"
        + (
            f"; a bound at --max-drop would need about {cal['photos_for_bound_at_max_drop']} photos"
            if cal.get("photos_for_bound_at_max_drop")
            else ""
        )
    )
    return table


def save_json(path: str | Path, report: dict) -> Path:
    """Write the report atomically."""
    return atomic_write_json(path, report)


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
    fig.tight_layout()
    path = Path(path)
    atomic_write(path, lambda p: fig.savefig(p, format=path.suffix.lstrip(".") or "png"))
    plt.close(fig)
    return path
