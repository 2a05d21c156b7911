"""``models`` and ``backbones``: what is bundled and registered."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import ConfigError
from ._app import app, console, friendly

if TYPE_CHECKING:
    from rich.table import Table


@app.command("models")
@friendly
def models_cmd(
    path: Annotated[
        str | None, typer.Argument(help="A checkpoint (path or bundled name) to describe instead of the list.")
    ] = None,
    model: Annotated[str | None, typer.Option(help="The same as PATH: a checkpoint to describe.")] = None,
) -> None:
    """List the models bundled in the package (usable as --model NAME), or describe one checkpoint (yours
    too): backbone, resolutions, classes, predictor, default policy, training."""
    from rich.table import Table

    from ..models.checkpoint import read_checkpoint
    from ..runtime.bundled import bundled_models, resolve_model

    if path is not None and model is not None and path != model:
        raise ConfigError(f"give one checkpoint to describe, as PATH or --model (got {path} and {model})")
    if path or model:
        console.print(_describe(str(path or model)))
        return
    table = Table(title="bundled models")
    for col in ("name", "default policy", "description", "file", "sha256"):
        table.add_column(col)
    for m in bundled_models().values():
        policy = (read_checkpoint(resolve_model(m.name)).get("policy") or {}).get("name")
        table.add_row(m.name, policy or "-", m.description, m.file, m.sha256[:12])
    console.print(table)


def _describe(name_or_path: str) -> Table:
    """One checkpoint, from its metadata (no model is built)."""
    from rich.markup import escape
    from rich.table import Table

    from ..models.checkpoint import describe_checkpoint
    from ..train.split import describe_split

    info = describe_checkpoint(name_or_path)
    meta = info.meta
    trained = ", ".join(
        part
        for part in (
            f"--mode {meta['mode']}" if meta.get("mode") else "",
            f"{meta['epochs_done']} epochs" if meta.get("epochs_done") else "",
            f"target {meta['target_macs_m']:.0f} M MACs" if isinstance(meta.get("target_macs_m"), float) else "",
        )
        if part
    )
    calibrate = f"none: choose one with drnet-edge calibrate --model {name_or_path} --data PHOTOS --out NEW.pt"
    rows = {
        "file": str(info.path),
        "backbone": info.backbone,
        "resolutions": ",".join(map(str, info.resolutions)),
        "classes": f"{info.num_classes} ({info.classes})",
        "predictor": "yes (drnet policies)" if info.has_predictor else "none (fixed and cascade policies only)",
        "batch norm": "one per resolution" if info.resolution_bn else "shared",
        "default policy": info.default_policy or calibrate,
        "training": trained or "-",
    }
    split = describe_split(meta.get("data"))
    if split:
        rows["trained on"] = split
    table = Table(title=escape(name_or_path), show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    for key, value in rows.items():
        table.add_row(key, escape(value))
    return table


@app.command("backbones")
@friendly
def backbones_cmd(
    macs: Annotated[bool, typer.Option("--macs", help="Also count MACs at each default resolution.")] = False,
) -> None:
    """List registered backbones, their weights source and default resolutions."""
    from rich.table import Table

    from ..models.backbones import get_backbone_cfg, list_backbones
    from ..models.macs import backbone_macs

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
