"""``verify``'s tables (rich, on screen) and Markdown report, from its JSON. No timing appears anywhere:
under an emulator there is none to show."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table

from .._io import atomic_write_text


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def _route(row: dict) -> str:
    route = f" via {row['route']}" if row["route"] != "default" else ""
    return f"{row['target']}{route} {row['precision']}"


def _side(report: dict) -> str:
    return "aarch64" if report["emulated"] else "worker"


def cpu_lines(report: dict) -> list[str]:
    """One line per emulated CPU: qemu's model and the features the worker saw."""
    out = []
    for name, c in report["cpus"].items():
        seen = c["seen"]
        feats = seen.get("features")
        has = ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in feats.items()) if feats else seen["machine"]
        qemu = f"QEMU_CPU={c['qemu_cpu']}: " if c.get("qemu_cpu") else ""
        out.append(f"{name}: {qemu}{c['description']}; seen: {has}")
    return out


def model_rows(report: dict) -> list[list[str]]:
    rows = []
    for m in report["models"]:
        for cpu, r in m["cpus"].items():
            base = [_route(m), m["model"], cpu]
            if not r.get("ok"):
                rows.append([*base, "", "", "", "failed", r.get("error", "")[:80]])
                continue
            flag = " (< 99%)" if r["below_floor"] else ""
            diff = f"{r['max_abs_diff']:.3g} of {r['host_output_range']:.3g}"
            rows.append(
                [
                    *base,
                    r.get("delegate", ""),
                    _pct(r["top1_host"]),
                    _pct(r["top1_arm"]),
                    _pct(r["agreement"]) + flag,
                    diff,
                ]
            )
    return rows


MODEL_COLUMNS = (
    "artifacts",
    "model",
    "CPU",
    "delegate",
    "top-1 host",
    "top-1 {side}",
    "agreement",
    "max abs diff (range)",
)
POLICY_COLUMNS = ("artifacts", "policy", "CPU", "top-1 host", "top-1 {side}", "agreement", "same passes")


def policy_rows(report: dict) -> list[list[str]]:
    rows = []
    for p in report["policies"]:
        name = f"{p['policy']} (default)" if p["default"] else p["policy"]
        for cpu, r in p["cpus"].items():
            rows.append(
                [
                    _route(p),
                    name,
                    cpu,
                    _pct(r["top1_host"]),
                    _pct(r["top1_arm"]),
                    _pct(r["agreement"]),
                    _pct(r["same_passes"]),
                ]
            )
    return rows


def _table(title: str, columns: tuple[str, ...], rows: list[list[str]], side: str) -> Table:
    table = Table(title=title)
    for i, col in enumerate(columns):
        table.add_column(col.format(side=side), justify="left" if i < 4 else "right")
    for row in rows:
        table.add_row(*row)
    return table


def model_table(report: dict) -> Table:
    n = report["n"]
    t = _table(
        f"each model on {_side(report)} against this host, {n} photo{'s' if n != 1 else ''} ({report['data']})",
        MODEL_COLUMNS,
        model_rows(report),
        _side(report),
    )
    t.caption = "; ".join(cpu_lines(report))
    return t


def policy_table(report: dict) -> Table:
    t = _table("per policy: the answer each side's outputs lead to", POLICY_COLUMNS, policy_rows(report), _side(report))
    t.caption = report["note"]
    return t


def notes(report: dict) -> list[str]:
    out = [report["note"]]
    if report.get("userland"):
        u = report["userland"]
        out.append(
            f"userland: Debian {u['suite']} at {u['root']} (built {u['built']}); ExecuTorch there: {u['executorch']}"
        )
        if u.get("project"):
            out.append(
                f"the aarch64 side ran this project's own runtime code: {u['project']['wheel']} (content sha256 "
                f"{u['project']['digest'][:12]}) and its dependencies' aarch64 wheels, installed {u['project']['installed']}"
            )
    out += [f"skipped {s['artifacts']} {s['target']}: {s['reason']}" for s in report["skipped"]]
    below = [(m, c) for m in report["models"] for c, r in m["cpus"].items() if r.get("ok") and r["below_floor"]]
    if below:
        names = ", ".join(f"{_route(m)} {m['model']} on {c}" for m, c in below)
        out.append(f"top-1 agreement below {100 * report['agreement_floor']:.0f}%: {names}")
    return out


def _md_table(columns: tuple[str, ...], rows: list[list[str]], side: str) -> list[str]:
    head = [c.format(side=side) for c in columns]
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(r) + " |" for r in rows]


def markdown(report: dict) -> str:
    side = _side(report)
    subset = f", subset {report['subset']}" if report.get("subset") else ""
    lines = [
        f"# drnet-edge verify: {side} against this host",
        "",
        f"{report['n']} photos from {report['data']}{subset}. {report['note']}.",
        "",
        "Emulated CPUs:" if report["emulated"] else "CPUs:",
        "",
        *[f"- {line}" for line in cpu_lines(report)],
        "",
        "## Per model",
        "",
        *_md_table(MODEL_COLUMNS, model_rows(report), side),
        "",
        "## Per policy",
        "",
        *_md_table(POLICY_COLUMNS, policy_rows(report), side),
        "",
        "## Notes",
        "",
        *[f"- {n}" for n in notes(report)],
        "",
    ]
    return "\n".join(lines)


def save_markdown(path: str | Path, report: dict[str, Any]) -> Path:
    return atomic_write_text(path, markdown(report))
