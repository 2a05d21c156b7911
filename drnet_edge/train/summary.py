"""The closing summary of a training run: where the checkpoint is, top-1 per resolution and the
predictor's resolution mix on validation photos (``train --val``), what that mix means, and the next
command to run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..progress import fmt_duration

# A predictor that sends at least this share of the photos to one resolution has learned little.
ONE_SIDED_SHARE = 0.9


@dataclass
class TrainSummary:
    """What ``train`` says when it ends (``lines``) and the validation report, if any (``report``)."""

    lines: list[str] = field(default_factory=list)
    report: dict[str, Any] | None = None


def predictor_note(report: dict[str, Any]) -> str | None:
    """One line on the predictor from an eval report's ``drnet`` and ``random`` rows: its resolution
    mix, and whether it learned anything (one-sided mix, or no better than its random control)."""
    rows = report["policies"]
    drnet, rand = rows.get("drnet"), rows.get("random")
    if drnet is None:
        return None
    share = {int(r): s for r, s in drnet["resolution_share"].items()}
    mix = ", ".join(f"{r}: {100 * s:.0f}%" for r, s in share.items() if s > 0)
    top_res, top_share = max(share.items(), key=lambda kv: kv[1])
    line = f"the predictor's mix on these photos: {mix} ({drnet['macs_m']:.0f} M MACs on average)"
    if top_share >= ONE_SIDED_SHARE:
        return (
            f"{line}. It sends {100 * top_share:.0f}% to {top_res} px: it learned little, as usual after a "
            "short run on few photos (docs/own-data.md, 'When the predictor learns nothing'); the cascades "
            "that calibrate also tries do not need it"
        )
    if rand is not None and drnet["top1"] is not None and rand["top1"] is not None and drnet["top1"] <= rand["top1"]:
        return f"{line}. It is no better than its random control (same mix dealt at random): it learned little"
    return line


def next_command(mode: str, out: Path, val: Path | None) -> str:
    """The command a user runs next after ``mode`` wrote ``out``."""
    data = str(val) if val else "PHOTOS"
    if mode == "plain":
        return f"compare with a DRNet: drnet-edge eval --model DRNET.pt --baseline {out} --data {data}"
    cal = out.with_name(out.stem + "-cal" + out.suffix)
    return (
        f"choose its default policy on photos it did not train on (100 or more): drnet-edge calibrate "
        f"--model {out} --data CALIB --target-ratio 0.6 --out {cal}"
    )


def summarise(
    out: Path, mode: str, elapsed_s: float, val: Path | None = None, *, progress: bool = True, batch_size: int = 32
) -> TrainSummary:
    """The closing summary of the run that wrote ``out`` in ``mode``; with ``val``, evaluate the
    checkpoint there (every fixed resolution, and the predictor with its random control)."""
    from ..evaluate import evaluate
    from ..models.checkpoint import read_checkpoint

    meta = read_checkpoint(out).get("meta") or {}
    summary = TrainSummary([f"trained {meta.get('epochs_done', '?')} epochs ({mode}) in {fmt_duration(elapsed_s)}"])
    if val is not None:
        has_predictor = mode != "plain"
        policies = "fixed,drnet,random" if has_predictor else "fixed"
        report = evaluate(val, model=out, policies=policies, progress=progress, batch_size=batch_size).to_json()
        summary.report = report
        fixed = [
            f"{r} px {100 * report['policies'][f'fixed-{r}']['top1']:.1f}% ({report['backbone_macs_m'][str(r)]:.0f} M MACs)"
            for r in report["resolutions"]
        ]
        summary.lines.append(f"top-1 on {report['n']} photos of {val}: " + ", ".join(fixed))
        note = predictor_note(report)
        if note:
            summary.lines.append(note)
    else:
        summary.lines.append(
            f"no --val: for top-1 per resolution, drnet-edge eval --model {out} --data PHOTOS (photos it did not train on)"
        )
    summary.lines.append(f"checkpoint: {out} (metrics per epoch: {out}.metrics.jsonl)")
    summary.lines.append("next: " + next_command(mode, out, val))
    return summary
