"""The bench's Markdown report: the policies' table, the per model table, how it was measured, and the
device's sections (what ran where, top operators, memory and start-up, thermal state) where present."""

from __future__ import annotations

from pathlib import Path

from ..._io import atomic_write_text
from .tables import COLUMNS, cell, op_rows, policy_rows, title


def _delegation_rows(report: dict) -> list[list[str]]:
    rows = []
    for name, d in ((report.get("delegation") or {}).get("models") or {}).items():
        nodes = f"{d['delegated_nodes']}/{d['total_nodes']}" if d.get("total_nodes") is not None else "n/a"
        rows.append([name, d["delegate"], d["status"], nodes, d["summary"]])
    return rows


def _phone_sections(report: dict) -> list[str]:
    """The device report's delegate, op-profile, memory/start-up and thermal sections (where present)."""
    out: list[str] = []
    if (dl := report.get("delegation")) is not None:
        head = f"asked: {dl.get('asked') or 'n/a'}, backend {dl.get('backend') or 'n/a'}; {dl.get('note', '')}"
        out += ["", "## What ran where", "", head, ""]
        if rows := _delegation_rows(report):
            out += ["| model | delegate | status | delegated nodes | where it ran |", "|---|---|---|---|---|"]
            out += ["| " + " | ".join(r) + " |" for r in rows]
    if "op_profile" in report:
        out += ["", "## Top operators per model", "", "| model | operator | ms/run | share |", "|---|---|---|---|"]
        out += ["| " + " | ".join(r) + " |" for r in op_rows(report)]
    if res := report.get("resident"):
        out += ["", "## Memory and start-up with every stage resident", "", f"Method: {res['method']}", ""]
        out += ["| what | stages | load ms | memory MB |", "|---|---|---|---|"]
        held: list[tuple[str, dict]] = [("all models", res["all_models"])] if res.get("all_models") else []
        held += res["policies"].items()
        out += [f"| {n} | {', '.join(r['stages'])} | {cell(r['load_ms'], '.0f')} | {cell(r['memory_mb'], '.1f')} |"
                for n, r in held]  # fmt: skip
    if th := report.get("thermal"):
        flagged = ", ".join(map(str, th["throttled_rounds"])) or "none"
        out += ["", "## Thermal state per round", "", f"Gate: {th['gate']}. Throttled rounds (status LIGHT or "
                f"above during the round): {flagged}.", "", "| round | battery C | waited s | status max | throttled |",
                "|---|---|---|---|---|"]  # fmt: skip
        out += [f"| {r['round']} | {cell(r['battery_c'], '.1f')} | {r['waited_s']:.0f} | {r['status_max_name']} | "
                f"{'**yes**' if r['throttled'] else 'no'} |" for r in th["rounds"]]  # fmt: skip
        out += [f"- {n}" for n in th.get("notes") or ()]
    return out


def markdown(report: dict) -> str:
    """A self-contained Markdown report."""
    lines = [f"# drnet-edge bench: {title(report)}", ""]
    if report.get("incomplete"):
        lines += [f"**Incomplete run**: {report['incomplete']}", ""]
    for warning in report.get("warnings") or ():  # the console and the JSON carry them: so does the report
        lines += [f"**Warning**: {warning}", ""]
    lines += ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(r) + " |" for r in policy_rows(report)]
    lines += ["", "## Per model", "", "| model | mean ms | p50 ms | p90 ms | std ms | runs | load ms | peak MB |"]
    lines += ["|---|---|---|---|---|---|---|---|"]
    for name, m in report["models"].items():
        lat = m["latency"]
        cells = [lat["mean_ms"], lat.get("p50_ms"), lat.get("p90_ms"), lat.get("std_ms")]
        lines.append(
            f"| {name} | "
            + " | ".join(cell(c, ".2f") for c in cells)
            + f" | {lat['runs']} | {cell(m.get('load_ms'), '.0f')} | {cell(m.get('peak_memory_mb'), '.1f')} |"
        )
    dev = report["device"]
    lines += [
        "",
        "## How this was measured",
        "",
        f"- Device: {', '.join(f'{k}={v}' for k, v in dev.items() if k != 'profile' and v and not isinstance(v, dict | list))}",
        *_board_lines(dev),
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
    lines += _phone_sections(report)
    return "\n".join(lines) + "\n"


def _board_lines(dev: dict) -> list[str]:
    """A board's profile (and whether it was ever checked on such a board) and its runtime versions."""
    if "runtime_versions" not in dev:  # only a board's facts hold them
        return []
    prof = dev.get("profile") or {}
    checked = (
        "verified" if prof.get("verified") else "unverified: written from vendor documentation, not run on such a board"
    )
    versions = ", ".join(f"{k} {v}" for k, v in (dev.get("runtime_versions") or {}).items() if v)
    return [
        f"- Board profile: {prof.get('name')} ({checked}); pinned to CPU mask {dev.get('pinned') or 'none'}",
        f"- On the board: {versions or 'versions not read'}",
    ]


def save_markdown(path: str | Path, report: dict) -> Path:
    return atomic_write_text(path, markdown(report))
