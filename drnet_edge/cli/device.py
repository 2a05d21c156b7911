"""``convert`` and ``bench``: from a checkpoint to deployable files, and to measured device numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from .._io import check_writable
from ..errors import ConfigError, DrnetEdgeError
from ..policy.registry import policy_names
from ._app import app, check_output_paths, console, err, friendly, quiet_runtimes, save_output, save_plot_output


@app.command("convert")
@friendly
def convert_cmd(
    out: Annotated[Path, typer.Option(help="Artifact directory to write (replaced only when every model passed).")],
    target: Annotated[list[str], typer.Option(help="tflite, executorch, onnx or all (repeatable).")] = ["tflite"],  # noqa: B006
    model: Annotated[str, typer.Option(help="DRNet checkpoint path or bundled model name.")] = "lite0-imagenet",
    int8: Annotated[bool, typer.Option("--int8", help="Static int8 post-training quantization.")] = False,
    via: Annotated[str, typer.Option(help="TFLite route: litert (default) or onnx2tf.")] = "litert",
    calib: Annotated[Path | None, typer.Option(help="Calibration images (default: the bundled sample).")] = None,
    calib_count: Annotated[
        int, typer.Option(min=1, help="Calibration views per model (augmented when images are fewer).")
    ] = 100,
    threads: Annotated[int | None, typer.Option(min=1, help="torch intra-op threads.")] = None,
    policy_data: Annotated[
        Path | None,
        typer.Option(
            help="Last step: calibrate each target's default policy on its converted files over these photos "
            "(as drnet-edge calibrate --artifacts; their held-aside fifth is left out when they are the --calib "
            "photos). Use photos the model did not train on: on training photos every resolution looks right."
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
) -> None:
    """Convert the predictor and one backbone per resolution for each target, with parity checks."""
    from ..policy.selection import objective_of

    check_writable(out, "--out", directory=True)
    objective = None
    if max_drop is not None or target_ratio is not None:
        if policy_data is None:
            raise ConfigError("--max-drop/--target-ratio set the objective of --policy-data: add --policy-data DIR")
        objective = objective_of(max_drop, target_ratio, False)
    if policy_data is not None and not policy_data.is_dir():
        raise ConfigError(f"--policy-data {policy_data} is not a folder of photos (one sub-folder per class)")
    import torch
    from rich.table import Table

    from ..convert import convert

    if threads:
        torch.set_num_threads(threads)
    existed = out.exists()
    try:
        with quiet_runtimes(out, "convert"):
            parity = convert(
                model, targets=target, out=out, int8=int8, calib=calib, calib_count=calib_count, via=via,
                policy_data=policy_data, policy_objective=objective, policy_min_photos=min_photos,
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
        "top-1 agree (calib)",
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


@app.command("bench")
@friendly
def bench_cmd(
    artifacts: Annotated[Path, typer.Option(help="Artifact directory written by drnet-edge convert.")],
    device: Annotated[
        str,
        typer.Option(
            help="local, a device profile (e.g. pixel7), an adb serial, android (the one phone), or a board: "
            "ssh://[user@]host[:port]."
        ),
    ] = "local",
    runtime: Annotated[
        str | None, typer.Option(help="tflite, executorch or onnx (default: tflite if the artifacts hold it).")
    ] = None,
    data: Annotated[Path | None, typer.Option(help="Images for the policies (default: the bundled sample).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Use at most N images.")] = None,
    subset: Annotated[
        str | None, typer.Option(help="Hash-based split of --data: test:K/N keeps fold K of N, train:K/N the rest.")
    ] = None,
    threads: Annotated[
        int | None, typer.Option(min=1, help="Runtime threads (default: the profile's, or min(4, cores) locally).")
    ] = None,
    runs: Annotated[int, typer.Option(min=1, help="Timed runs per model.")] = 50,
    warmup: Annotated[int, typer.Option(min=0, help="Untimed runs (images, for policies) first.")] = 5,
    rounds: Annotated[int, typer.Option(min=1, help="Android: interleaved rounds the runs are split into.")] = 3,
    cooldown: Annotated[float, typer.Option(min=0, help="Android: seconds to rest after each model run.")] = 0.0,
    energy: Annotated[
        bool,
        typer.Option(
            "--energy",
            help="Measure energy (RAPL or hwmon power/energy sensors locally and on boards, ODPM on Pixels).",
        ),
    ] = False,
    idle: Annotated[float, typer.Option(min=0.5, help="Seconds of idle-power baseline before energy runs.")] = 3.0,
    profiles: Annotated[
        Path | None, typer.Option(help="Android and boards: extra device-profile JSON file (same format as bundled).")
    ] = None,
    benchmark_binary: Annotated[
        Path | None, typer.Option(help="Android: local benchmark_model / executor_runner to push and use.")
    ] = None,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="Skip unreadable images instead of stopping.")] = False,
    policies: Annotated[
        str | None,
        typer.Option(
            help="Local and boards: more deployable policies to measure beside the fixed resolutions and the default, "
            "comma-separated (e.g. cascade-160:0.6-224,drnet-escalate:0.5)."
        ),
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the results as JSON here.")] = None,
    report: Annotated[Path | None, typer.Option(help="Write a Markdown report here.")] = None,
    plot: Annotated[Path | None, typer.Option(help="Write a top-1 vs latency chart (PNG/SVG/PDF) here.")] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Android: keep the models an interrupted run in --json already measured. Boards: re-attach to the "
            "run that --json names (it goes on there when the connection drops).",
        ),
    ] = False,
    app: Annotated[
        bool, typer.Option("--app", help="Android: the installed demo app measures the whole pipeline on the phone.")
    ] = False,
    app_timeout: Annotated[float, typer.Option(min=1, help="--app: seconds to wait for the app's result.")] = 1800.0,
    delegate: Annotated[
        str | None,
        typer.Option(
            help="Android, tflite: LiteRT's delegate, cpu (XNNPACK), gpu or nnapi (deprecated from Android 15); the "
            "report says per model what ran where, a refusal included."
        ),
    ] = None,
    op_profile: Annotated[
        bool,
        typer.Option(
            "--op-profile", help="Per model, the operators taking the time (runtime's own profiler; not --app)."
        ),
    ] = False,
    max_temp: Annotated[
        float | None,
        typer.Option(help="Android: before each round wait until the battery is at or below this many degrees C."),
    ] = None,
    temp_timeout: Annotated[
        float, typer.Option(min=0, help="--max-temp: at most this many seconds of waiting.")
    ] = 600.0,
    ssh_option: Annotated[
        list[str] | None,
        typer.Option(help="Boards: an ssh -o option, KEY=VALUE (repeatable), e.g. IdentityFile=~/.ssh/board."),
    ] = None,
    remote_venv: Annotated[
        str | None,
        typer.Option(help="Boards: a venv on the board with drnet-edge installed (default: the bench makes its own)."),
    ] = None,
    wheel: Annotated[
        Path | None,
        typer.Option(help="Boards: the drnet_edge-*.whl to install there (default: built from this source tree)."),
    ] = None,
    board: Annotated[
        str | None, typer.Option(help="Boards: the board profile to use (default: matched by the board's model).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
) -> None:
    """Measure latency (and energy) of converted artifacts against fixed resolutions."""
    # BenchOptions refuses phone-only options with --device local; --resume without --json is passed as set
    # (Path()) so that refusal comes before the --json one.
    from ..bench import BenchOptions, run_bench

    opts = BenchOptions(
        device=device, runtime=runtime, data=data, limit=limit, subset=subset, threads=threads, runs=runs,
        warmup=warmup, energy=energy, idle_s=idle, skip_bad=skip_bad, rounds=rounds, cooldown_s=cooldown,
        policies=tuple(policy_names(policies)) if policies is not None else (),
        profiles=profiles, benchmark_binary=benchmark_binary, resume=(json_out or Path()) if resume else None,
        app=app, app_timeout_s=app_timeout, delegate=delegate, op_profile=op_profile, max_temp_c=max_temp,
        temp_timeout_s=temp_timeout, ssh_options=tuple(ssh_option or ()), remote_venv=remote_venv, wheel=wheel,
        board=board, progress=not quiet, log=lambda m: err.print(m, highlight=False, markup=False),
    )  # fmt: skip
    if resume and json_out is None:
        raise DrnetEdgeError("--resume needs --json FILE from the interrupted run")
    check_output_paths(files=(("--json", json_out), ("--report", report)), plots=(("--plot", plot),))
    with quiet_runtimes(json_out or report or plot, "bench"):
        result = run_bench(artifacts, opts)
    _bench_output(result, json_out, report, plot)


def _bench_output(result: dict, json_out: Path | None, report: Path | None, plot: Path | None) -> None:
    """``bench``'s tables and files; exit code 3 when the run is incomplete."""
    from .._io import atomic_write_json
    from ..bench.markdown import bench_table, model_table, op_profile_table, save_latency_plot, save_markdown

    if result["models"]:
        console.print(model_table(result))
    if (ops := op_profile_table(result)) is not None:
        console.print(ops)
    console.print(bench_table(result))
    for name, d in ((result.get("delegation") or {}).get("models") or {}).items():
        if d["status"] not in ("full", "unknown"):
            err.print(f"[yellow]delegate:[/] {escape(name)}: {escape(d['summary'])}", highlight=False, soft_wrap=True)
    if (thermal := result.get("thermal")) and thermal["throttled_rounds"]:
        rounds = ", ".join(map(str, thermal["throttled_rounds"]))
        err.print(f"[yellow]thermal:[/] rounds {rounds} ran throttled (status LIGHT or above)", highlight=False)
    console.print(f"[dim]{result['schedule']}; energy: {result['energy']['note']}[/]", highlight=False)
    for warning in result.get("warnings") or ():
        err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    ok = save_output("--json", json_out, lambda p: atomic_write_json(p, result), "JSON")
    ok &= save_output("--report", report, lambda p: save_markdown(p, result), "report")
    ok &= save_plot_output("--plot", plot, result, save_latency_plot, "latency_ms")
    if not ok:
        raise typer.Exit(2)
    if result.get("incomplete"):
        err.print(
            f"[bold red]error:[/] the run is incomplete: {result['incomplete']}. Results so far are saved and marked "
            "incomplete; reconnect and rerun with --resume --json FILE to finish.",
            highlight=False,
        )
        raise typer.Exit(3)
