"""``drnet-edge`` command line: a thin layer over the library. Errors become messages, not tracebacks."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from .errors import DrnetEdgeError

app = typer.Typer(
    name="drnet-edge",
    help="Dynamic-resolution networks from PyTorch to measured inference on edge devices.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Wide enough for the tables when piped to a file or a CI log.
console = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 140)


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors (and Ctrl-C) into a one-line message and exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DrnetEdgeError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err.print("[yellow]interrupted[/]")
            raise typer.Exit(130) from None

    return wrapper


def _existing_file(value: Path | None, flag: str) -> Path | None:
    if value is not None and not value.is_file():
        raise DrnetEdgeError(f"{flag} {value}: no such file")
    return value


@app.command("eval")
@friendly
def eval_cmd(
    data: Annotated[
        Path | None, typer.Option(help="Image folder (one sub-folder per class). Default: the bundled sample.")
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="DRNet checkpoint path or bundled model name (default: lite0-imagenet).")
    ] = None,
    backbone: Annotated[
        str | None, typer.Option(help="Evaluate a plain backbone instead (registered or any timm name).")
    ] = None,
    weights: Annotated[
        Path | None, typer.Option(help="State-dict file for --backbone (loaded with weights_only=True).")
    ] = None,
    baseline: Annotated[str | None, typer.Option(help="Plain model checkpoint for the 'baseline' policy.")] = None,
    resolutions: Annotated[
        str | None, typer.Option(help="Candidate resolutions, e.g. 224,192,160,128,96. Default: the model's.")
    ] = None,
    policies: Annotated[
        str | None,
        typer.Option(help="Comma-separated: fixed, fixed-R, oracle, oracle-agree, drnet, random, baseline."),
    ] = None,
    subset: Annotated[
        str | None, typer.Option(help="Hash-based split: test:K/N keeps fold K of N, train:K/N the rest.")
    ] = None,
    runtime: Annotated[
        str | None, typer.Option(help="Run converted artifacts with this runtime: tflite, executorch or onnx.")
    ] = None,
    artifacts: Annotated[Path | None, typer.Option(help="Artifact directory written by drnet-edge convert.")] = None,
    classes: Annotated[
        Path | None, typer.Option(help="Class list file ('id [name]' per line) in model-output order.")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Evaluate at most N images (spread over classes).")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Images per forward pass.")] = 32,
    threads: Annotated[
        int | None, typer.Option(min=1, help="torch intra-op threads (default: torch's choice).")
    ] = None,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Skip unreadable images (counted in the output) instead of stopping.")
    ] = False,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the report as JSON here.")] = None,
    plot: Annotated[Path | None, typer.Option(help="Write a top-1 vs MACs chart (PNG/SVG/PDF) here.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Evaluate a DRNet (or a plain backbone) at each resolution and score resolution policies."""
    import torch

    from .data import read_class_file, sample_dir
    from .evaluate import evaluate
    from .report import policy_table, save_json, save_plot

    if threads:
        torch.set_num_threads(threads)
    _existing_file(weights, "--weights")
    class_list = read_class_file(classes) if classes else None
    report = evaluate(
        data or sample_dir(),
        model=model,
        backbone=backbone,
        weights=weights,
        baseline=baseline,
        runtime=runtime,
        artifacts=artifacts,
        threads=threads,
        subset=subset,
        resolutions=resolutions,
        policies=policies,
        classes=class_list,
        limit=limit,
        batch_size=batch_size,
        skip_bad=skip_bad,
        progress=not quiet,
    ).to_json()
    console.print(policy_table(report))
    console.print(
        f"[dim]{report['classes']}; skipped unreadable: {report['skipped_bad']['count']}; "
        "oracle rows are upper bounds (they look at every resolution's output), not results.[/]"
    )
    if json_out:
        save_json(json_out, report)
        console.print(f"JSON: {json_out}")
    if plot:
        save_plot(plot, report)
        console.print(f"plot: {plot}")


@app.command("train")
@friendly
def train_cmd(
    data: Annotated[Path, typer.Option(help="Training images, one sub-folder per class.")],
    out: Annotated[Path, typer.Option(help="Checkpoint to write (each epoch, atomically).")],
    backbone: Annotated[str, typer.Option(help="Registered backbone or timm name.")] = "efficientnet_lite0",
    resolutions: Annotated[str, typer.Option(help="Candidate resolutions, largest first.")] = "224,192,160,128",
    mode: Annotated[
        str, typer.Option(help="predictor (frozen backbone), joint (the paper's recipe) or plain (largest only).")
    ] = "predictor",
    weights: Annotated[Path | None, typer.Option(help="Backbone state dict to start from (weights_only=True).")] = None,
    classes: Annotated[
        Path | None, typer.Option(help="Class list file for non-ImageNet folders (default: folder order).")
    ] = None,
    subset: Annotated[
        str | None, typer.Option(help="Train on a hash-based split, e.g. train:0/5 (hold out fold 0).")
    ] = None,
    extra_data: Annotated[
        list[Path] | None, typer.Option(help="More training folders, used whole (repeatable; same classes).")
    ] = None,
    cache_dir: Annotated[
        Path | None, typer.Option(help="predictor mode: where the backbone-outcome cache lives (default <out>.cache).")
    ] = None,
    init_from: Annotated[
        str | None,
        typer.Option(help="Start from this DRNet checkpoint's backbone and predictor (path or bundled name)."),
    ] = None,
    target_ratio: Annotated[
        float | None, typer.Option(help="Target mean MACs as a fraction of the largest resolution's.")
    ] = 0.6,
    target_macs: Annotated[
        float | None, typer.Option(help="Target mean MACs in millions (overrides --target-ratio).")
    ] = None,
    eta: Annotated[float, typer.Option(help="Weight of the MACs constraint loss.")] = 0.2,
    tau: Annotated[float, typer.Option(help="Gumbel-softmax temperature.")] = 1.0,
    epochs: Annotated[int, typer.Option(min=1)] = 10,
    pretrain_epochs: Annotated[
        int | None, typer.Option(help="joint: multi-resolution epochs before joint ones (default half).")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1)] = 32,
    lr: Annotated[
        float | None, typer.Option(help="Learning rate (default 1e-3 predictor/AdamW, 0.01 joint and plain/SGD).")
    ] = None,
    thumb_size: Annotated[int, typer.Option(help="Predictor thumbnail size (px, at most 128).", min=16, max=128)] = 64,
    views: Annotated[
        int, typer.Option(help="predictor mode: augmented views per image in the outcome cache.", min=1)
    ] = 4,
    resolution_bn: Annotated[
        bool, typer.Option("--resolution-bn/--shared-bn", help="joint: private BN per resolution.")
    ] = True,
    joint_forward: Annotated[
        str,
        typer.Option(
            help="joint phase: chosen (each image at its resolution only), all (fixed shapes), auto (all on GPU)."
        ),
    ] = "auto",
    augment: Annotated[bool, typer.Option("--augment/--no-augment", help="Random resized crops and flips.")] = True,
    workers: Annotated[int, typer.Option(help="Data-loader worker processes.", min=0)] = 2,
    seed: Annotated[int, typer.Option()] = 0,
    limit: Annotated[int | None, typer.Option(min=1, help="Use at most N images.")] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="torch intra-op threads.")] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the run in --out exactly where it stopped.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
) -> None:
    """Train a DRNet (or the plain baseline); works under torchrun for several processes."""
    import torch

    from .options import parse_resolutions
    from .train import TrainConfig, train

    if threads:
        torch.set_num_threads(threads)
    cfg = TrainConfig(
        data=str(data), out=str(out), backbone=backbone, resolutions=parse_resolutions(resolutions), mode=mode,
        weights=str(weights) if weights else None, classes=str(classes) if classes else None, subset=subset,
        extra_data=[str(p) for p in extra_data or []], cache_dir=str(cache_dir) if cache_dir else None, init_from=init_from,
        epochs=epochs, pretrain_epochs=pretrain_epochs, batch_size=batch_size, lr=lr,
        target_ratio=target_ratio, target_macs=target_macs, eta=eta, tau=tau, thumb_size=thumb_size, views=views,
        resolution_bn=resolution_bn, joint_forward=joint_forward, augment=augment, workers=workers, seed=seed, limit=limit,
    )  # fmt: skip
    try:
        train(cfg, resume=resume, progress=not quiet, log=lambda m: console.print(m, highlight=False, markup=False))
    except KeyboardInterrupt:
        err.print(
            f"[yellow]interrupted[/]: the last complete epoch's checkpoint in {out} is intact; continue with --resume"
        )
        raise typer.Exit(130) from None


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
        int, typer.Option(help="Calibration views per model (augmented when images are fewer).")
    ] = 100,
    threads: Annotated[int | None, typer.Option(min=1, help="torch intra-op threads.")] = None,
) -> None:
    """Convert the predictor and one backbone per resolution for each target, with parity checks."""
    import torch
    from rich.table import Table

    from .convert import convert

    if threads:
        torch.set_num_threads(threads)
    parity = convert(
        model, targets=target, out=out, int8=int8, calib=calib, calib_count=calib_count, via=via,
        log=lambda m: console.print(m, highlight=False, markup=False),
    )  # fmt: skip
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
    for tname, models in parity["targets"].items():
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
        str, typer.Option(help="local, a device profile (e.g. pixel7), an adb serial, or android (the one phone).")
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
    energy: Annotated[bool, typer.Option("--energy", help="Measure energy (RAPL locally, ODPM on Pixels).")] = False,
    idle: Annotated[float, typer.Option(min=0.5, help="Seconds of idle-power baseline before energy runs.")] = 3.0,
    profiles: Annotated[
        Path | None, typer.Option(help="Extra device-profile JSON file (same format as bundled).")
    ] = None,
    benchmark_binary: Annotated[
        Path | None, typer.Option(help="Android: local benchmark_model / executor_runner to push and use.")
    ] = None,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="Skip unreadable images instead of stopping.")] = False,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the results as JSON here.")] = None,
    report: Annotated[Path | None, typer.Option(help="Write a Markdown report here.")] = None,
    plot: Annotated[Path | None, typer.Option(help="Write a top-1 vs latency chart (PNG/SVG/PDF) here.")] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Android: keep the models an interrupted run in --json already measured.")
    ] = False,
    app: Annotated[
        bool, typer.Option("--app", help="Android: the installed demo app measures the whole pipeline on the phone.")
    ] = False,
    app_timeout: Annotated[float, typer.Option(min=1, help="--app: seconds to wait for the app's result.")] = 1800.0,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
) -> None:
    """Measure latency (and energy) of converted artifacts against fixed resolutions."""
    # Long only for its option declarations above. BenchOptions refuses phone-only options with --device local;
    # --resume without --json is passed as set (Path()) so that refusal comes before the --json one.
    from .bench import BenchOptions, run_bench

    opts = BenchOptions(
        device=device, runtime=runtime, data=data, limit=limit, subset=subset, threads=threads, runs=runs,
        warmup=warmup, energy=energy, idle_s=idle, skip_bad=skip_bad, rounds=rounds, cooldown_s=cooldown,
        profiles=profiles, benchmark_binary=benchmark_binary, resume=(json_out or Path()) if resume else None,
        app=app, app_timeout_s=app_timeout, progress=not quiet, log=lambda m: err.print(m, highlight=False, markup=False),
    )  # fmt: skip
    if resume and json_out is None:
        raise DrnetEdgeError("--resume needs --json FILE from the interrupted run")
    _bench_output(run_bench(artifacts, opts), json_out, report, plot)


def _bench_output(result: dict, json_out: Path | None, report: Path | None, plot: Path | None) -> None:
    """``bench``'s tables and files; exit code 3 when the run is incomplete."""
    from .bench.report import bench_table, model_table, save_latency_plot, save_markdown
    from .report import save_json

    if result["models"]:
        console.print(model_table(result))
    console.print(bench_table(result))
    console.print(f"[dim]{result['schedule']}; energy: {result['energy']['note']}[/]", highlight=False)
    if json_out:
        save_json(json_out, result)
        console.print(f"JSON: {json_out}")
    if report:
        save_markdown(report, result)
        console.print(f"report: {report}")
    if plot:
        save_latency_plot(plot, result)
        console.print(f"plot: {plot}")
    if result.get("incomplete"):
        err.print(
            f"[bold red]error:[/] the run is incomplete: {result['incomplete']}. Results so far are saved and marked "
            "incomplete; reconnect and rerun with --resume --json FILE to finish.",
            highlight=False,
        )
        raise typer.Exit(3)


@app.command("models")
@friendly
def models_cmd() -> None:
    """List the models bundled in the package (usable as --model NAME)."""
    from rich.table import Table

    from .checkpoint import bundled_models

    table = Table(title="bundled models")
    for col in ("name", "description", "file", "sha256"):
        table.add_column(col)
    for m in bundled_models().values():
        table.add_row(m.name, m.description, m.file, m.sha256[:12])
    console.print(table)


@app.command("backbones")
@friendly
def backbones_cmd(
    macs: Annotated[bool, typer.Option("--macs", help="Also count MACs at each default resolution.")] = False,
) -> None:
    """List registered backbones, their weights source and default resolutions."""
    from rich.table import Table

    from .backbones import get_backbone_cfg, list_backbones
    from .macs import backbone_macs

    table = Table(title="registered backbones (any timm name works too, with --weights)")
    for col in ("name", "architecture", "pretrained weights", "resolutions") + (("MACs (M)",) if macs else ()):
        table.add_column(col)
    for name in list_backbones():
        cfg = get_backbone_cfg(name)
        row = [
            name,
            cfg.source,
            "installed" if cfg.load_pretrained else "not installed: use --weights",
            ",".join(map(str, cfg.resolutions)),
        ]
        if macs:
            row.append(" ".join(f"{backbone_macs(name, r) / 1e6:.0f}" for r in cfg.resolutions))
        table.add_row(*row)
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    """Entry point for the ``drnet-edge`` script."""
    try:
        app(args=argv, standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
