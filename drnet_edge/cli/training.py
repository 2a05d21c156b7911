"""``train``: predictor, joint and plain training."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ._app import app, console, err, friendly


# Long only for its typer option declarations (one per flag); the body builds one TrainConfig.
@app.command("train")
@friendly
def train_cmd(
    data: Annotated[Path, typer.Option(help="Training images, one sub-folder per class.")],
    out: Annotated[Path, typer.Option(help="Checkpoint to write (each epoch, atomically).")],
    backbone: Annotated[str, typer.Option(help="Registered backbone or timm name.")] = "efficientnet_lite0",
    resolutions: Annotated[str, typer.Option(help="Candidate resolutions, largest first.")] = "224,192,160,128",
    mode: Annotated[
        str,
        typer.Option(
            help="predictor (frozen backbone), joint (the paper's recipe) or plain (largest only: the baseline). "
            "auto: predictor when the backbone already knows the classes (ImageNet wnid folders, --init-from, "
            "--weights), joint for your own classes."
        ),
    ] = "auto",
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
    fresh_predictor: Annotated[
        bool,
        typer.Option(
            "--fresh-predictor",
            help="predictor mode with --init-from: train a new predictor on that frozen backbone, not its own.",
        ),
    ] = False,
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
    distill: Annotated[
        float,
        typer.Option(
            help="joint: in the multi-resolution epochs, each smaller resolution also learns the largest's "
            "prediction (weight of the KL term; 0 = off).",
            min=0.0,
        ),
    ] = 0.0,
    train_scale: Annotated[
        float,
        typer.Option(
            help="joint/plain: each resolution's path trains on crops this share of its side (0.5-1; 0.875: "
            "trained a little below the test size, the train-test resolution discrepancy).",
            min=0.5,
            max=1.0,
        ),
    ] = 1.0,
    augment: Annotated[bool, typer.Option("--augment/--no-augment", help="Random resized crops and flips.")] = True,
    workers: Annotated[int, typer.Option(help="Data-loader worker processes.", min=0)] = 2,
    seed: Annotated[int, typer.Option()] = 0,
    limit: Annotated[int | None, typer.Option(min=1, help="Use at most N images.")] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="torch intra-op threads.")] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the run in --out exactly where it stopped.")
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite", help="Start again over an existing --out checkpoint (refused without it)."),
    ] = False,
    val: Annotated[
        Path | None,
        typer.Option(
            help="Photos the model does not train on (one sub-folder per class): when training ends, top-1 per "
            "resolution and the predictor's mix on them, in the closing summary and <out>.val.json."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
) -> None:
    """Train a DRNet (or the plain baseline); works under torchrun for several processes."""
    import time

    from .._io import check_writable
    from ..errors import ConfigError
    from ..train.config import TrainConfig

    started = time.time()
    cfg = TrainConfig(
        data=str(data), out=str(out), backbone=backbone, resolutions=resolutions, mode=mode,
        weights=str(weights) if weights else None, classes=str(classes) if classes else None, subset=subset,
        extra_data=[str(p) for p in extra_data or []], cache_dir=str(cache_dir) if cache_dir else None, init_from=init_from,
        fresh_predictor=fresh_predictor, epochs=epochs, pretrain_epochs=pretrain_epochs, batch_size=batch_size, lr=lr,
        target_ratio=target_ratio, target_macs=target_macs, eta=eta, tau=tau, thumb_size=thumb_size, views=views,
        resolution_bn=resolution_bn, joint_forward=joint_forward, distill=distill, train_scale=train_scale, augment=augment, workers=workers, seed=seed, limit=limit,
    )  # fmt: skip
    # the whole command line (ranges, outputs, classes) before PyTorch is imported or a model loads
    note = cfg.prepare(resume=resume, overwrite=overwrite)
    if val is not None:
        if not val.is_dir():
            raise ConfigError(f"--val {val}: no such folder; give a folder of photos, one sub-folder per class")
        check_writable(Path(f"{out}.val.json"), "--out")
    if note:
        console.print(note, highlight=False, markup=False)

    import torch

    from .._io import atomic_write_json
    from ..tables import policy_table
    from ..train import interrupted_note, train
    from ..train.summary import summarise

    if threads:
        torch.set_num_threads(threads)
    try:
        train(
            cfg,
            resume=resume,
            overwrite=overwrite,
            progress=not quiet,
            log=lambda m: console.print(m, highlight=False, markup=False),
        )
        summary = summarise(out, cfg.mode, time.time() - started, val, progress=not quiet, batch_size=batch_size)
    except KeyboardInterrupt:
        note = interrupted_note(cfg, resume=resume, started=started)
        err.print(f"[yellow]interrupted[/]: {escape(note)}", highlight=False, soft_wrap=True)
        raise typer.Exit(130) from None
    if summary.report is not None:
        console.print(policy_table(summary.report, title=f"{out} on {summary.report['n']} photos of {val}"))
        atomic_write_json(Path(f"{out}.val.json"), summary.report)
    for line in summary.lines:
        console.print(line, highlight=False, markup=False, soft_wrap=True)
