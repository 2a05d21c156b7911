"""``models`` and ``backbones``: what is bundled and registered."""

from __future__ import annotations

from typing import Annotated

import typer

from ._app import app, console, friendly


@app.command("models")
@friendly
def models_cmd() -> None:
    """List the models bundled in the package (usable as --model NAME)."""
    from rich.table import Table

    from ..checkpoint import bundled_models, read_checkpoint, resolve_model

    table = Table(title="bundled models")
    for col in ("name", "default policy", "description", "file", "sha256"):
        table.add_column(col)
    for m in bundled_models().values():
        policy = (read_checkpoint(resolve_model(m.name)).get("policy") or {}).get("name")
        table.add_row(m.name, policy or "-", m.description, m.file, m.sha256[:12])
    console.print(table)


@app.command("backbones")
@friendly
def backbones_cmd(
    macs: Annotated[bool, typer.Option("--macs", help="Also count MACs at each default resolution.")] = False,
) -> None:
    """List registered backbones, their weights source and default resolutions."""
    from rich.table import Table

    from ..backbones import get_backbone_cfg, list_backbones
    from ..macs import backbone_macs

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
