"""``convert``: from a checkpoint to deployable files for each target, checked against PyTorch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .._io import check_writable
from ..errors import ConfigError
from ._app import app, console, err, friendly, quiet_runtimes


@app.command("convert")
@friendly
def convert_cmd(
    out: Annotated[Path, typer.Option(help="Artifact directory to write (replaced only when every model passed).")],
    target: Annotated[list[str], typer.Option(help="tflite, executorch, onnx or all (repeatable).")] = ["tflite"],  # noqa: B006
    model: Annotated[str, typer.Option(help="DRNet checkpoint path or bundled model name.")] = "lite0-imagenet",
    int8: Annotated[bool, typer.Option("--int8", help="Static int8 post-training quantization.")] = False,
    via: Annotated[str, typer.Option(help="TFLite route: litert (default) or onnx2tf.")] = "litert",
    quant_data: Annotated[
        Path | None,
        typer.Option(
            help="Photos for int8 quantisation and the parity checks; a fifth is held aside for accuracy "
            "(default: the bundled sample)."
        ),
    ] = None,
    quant_count: Annotated[
        int, typer.Option(min=1, help="Views of --quant-data per model (augmented when photos are fewer).")
    ] = 100,
    threads: Annotated[int | None, typer.Option(min=1, help="torch intra-op threads.")] = None,
    policy_data: Annotated[
        Path | None,
        typer.Option(
            help="Last step: calibrate each target's default policy on its converted files over these photos "
            "(as drnet-edge calibrate --artifacts; their held-aside fifth is left out when they are the "
            "--quant-data photos). Use photos the model did not train on: on training photos every resolution "
            "looks right."
        ),
    ] = None,
    max_drop: Annotated[
        float | None, typer.Option(help="Objective for --policy-data (default: the checkpoint's own objective).")
    ] = None,
    target_ratio: Annotated[
        float | None, typer.Option(help="Objective for --policy-data (default: the checkpoint's own objective).")
    ] = None,
    min_photos: Annotated[
        int, typer.Option(min=0, help="With --policy-data: refuse fewer photos than this (0: no check).")
    ] = 100,
    pass_from: Annotated[
        list[str] | None,
        typer.Option(
            help="RES=MODEL: take the RES px pass from another checkpoint (path or bundled name) of the same "
            "backbone, classes and preprocessing, e.g. 224=lite0-imagewoof-base: a cascade that escalates to "
            "224 px then escalates to that model (repeatable; add --policy-data to calibrate the folder)."
        ),
    ] = None,
    old_quant_data: Annotated[Path | None, typer.Option("--calib", hidden=True)] = None,
    old_quant_count: Annotated[int | None, typer.Option("--calib-count", min=1, hidden=True)] = None,
) -> None:
    """Convert the predictor and one backbone per resolution for each target, with parity checks."""
    from ..policy.selection import objective_of

    quant_data = _renamed("--calib", old_quant_data, "--quant-data", quant_data, None)
    quant_count = _renamed("--calib-count", old_quant_count, "--quant-count", quant_count, 100)
    check_writable(out, "--out", directory=True)
    objective = None
    if max_drop is not None or target_ratio is not None:
        if policy_data is None:
            raise ConfigError("--max-drop/--target-ratio set the objective of --policy-data: add --policy-data DIR")
        objective = objective_of(max_drop, target_ratio, False)
    if policy_data is not None and not policy_data.is_dir():
        raise ConfigError(f"--policy-data {policy_data} is not a folder of photos (one sub-folder per class)")
    passes = parse_pass_from(pass_from)
    import torch
    from rich.table import Table

    from ..convert import convert

    if threads:
        torch.set_num_threads(threads)
    existed = out.exists()
    try:
        with quiet_runtimes(out, "convert"):
            parity = convert(
                model, targets=target, out=out, int8=int8, quant_data=quant_data, quant_count=quant_count,
                via=via,
                policy_data=policy_data, policy_objective=objective, policy_min_photos=min_photos, passes=passes,
                log=lambda m: console.print(m, highlight=False, markup=False),
            )  # fmt: skip
    except KeyboardInterrupt:  # every converter (onnx2tf's child process included) is stopped by now
        state = "is as it was" if existed else "was not created"
        err.print(f"interrupted: conversion stopped, nothing half-written: --out {out} {state}", markup=False,
                  highlight=False, soft_wrap=True)  # fmt: skip
        raise typer.Exit(130) from None
    table = Table(title=f"parity against PyTorch ({'int8' if int8 else 'fp32'}; fp32 tolerance {parity['atol_fp32']})")
    for col in (
        "target",
        "model",
        "max |logit diff|",
        "top-1 agree (quant views)",
        "top-1 agree (held)",
        "held top-1 fp32 -> int8",
    ):
        table.add_column(col)
    for tname, models in parity["targets"].items():  # the "policy" section is logged by convert
        for mname, r in models.items():
            held = (
                f"{100 * r['top1_fp32_held']:.1f}% -> {100 * r['top1_int8_held']:.1f}%" if "top1_int8_held" in r else ""
            )
            agree_held = f"{100 * r['top1_agreement_held']:.1f}%" if "top1_agreement_held" in r else ""
            table.add_row(
                tname, mname, f"{r['max_abs_diff']:.2e}", f"{100 * r['top1_agreement_calib']:.1f}%", agree_held, held
            )
    console.print(table)
    console.print(f"artifacts: {out} (manifest.json, parity.json)")


def parse_pass_from(specs: list[str] | None, flag: str = "--pass-from") -> dict[int, str]:
    """``["224=lite0-imagewoof-base"]`` -> ``{224: "lite0-imagewoof-base"}``; a clear error naming ``flag``."""
    out: dict[int, str] = {}
    for spec in specs or []:
        res, sep, model = spec.partition("=")
        if not sep or not res.strip().isdigit() or not model.strip():
            raise ConfigError(f"{flag} {spec!r}: write RES=MODEL, e.g. {flag} 224=lite0-imagewoof-base")
        r = int(res)
        if r in out:
            raise ConfigError(f"{flag}: {r} px is named twice ({out[r]} and {model.strip()})")
        out[r] = model.strip()
    return out


def _renamed(old: str, old_value: Any, new: str, value: Any, default: Any) -> Any:
    """An option's old name still works, with a one-line notice on stderr; both names at once are refused."""
    if old_value is None:
        return value
    err.print(f"notice: {old} is now {new}", markup=False, highlight=False)
    if value != default:
        raise ConfigError(f"{old} is the old name of {new}: give {new} alone")
    return old_value
