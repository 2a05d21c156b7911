"""Eval and calibration results on screen: rich tables of an eval report's JSON and of a calibration result.

The plot is :mod:`drnet_edge.plots`; the JSON is written by :func:`drnet_edge._io.atomic_write_json`.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table

from drnet_edge.policy.rows import paired_text


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
        vs = paired_text(line)
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
