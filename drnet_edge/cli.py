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
out = Console(width=None if sys.stdout.isatty() else 140)
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
    backbone: Annotated[
        str, typer.Option(help="Registered backbone or any timm architecture name.")
    ] = "efficientnet_lite0",
    weights: Annotated[
        Path | None, typer.Option(help="State-dict file for the backbone (loaded with weights_only=True).")
    ] = None,
    resolutions: Annotated[
        str | None, typer.Option(help="Candidate resolutions, e.g. 224,192,160,128,96. Default: the backbone's.")
    ] = None,
    policies: Annotated[
        str, typer.Option(help="Comma-separated: fixed, fixed-R, oracle, oracle-agree.")
    ] = "fixed,oracle,oracle-agree",
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
    """Evaluate a backbone at each resolution and score resolution policies."""
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
        backbone=backbone,
        weights=weights,
        resolutions=resolutions,
        policies=policies,
        classes=class_list,
        limit=limit,
        batch_size=batch_size,
        skip_bad=skip_bad,
        progress=not quiet,
    ).to_json()
    out.print(policy_table(report))
    out.print(
        f"[dim]{report['classes']}; skipped unreadable: {report['skipped_bad']['count']}; "
        "oracle rows are upper bounds (they look at every resolution's output), not results.[/]"
    )
    if json_out:
        save_json(json_out, report)
        out.print(f"JSON: {json_out}")
    if plot:
        save_plot(plot, report)
        out.print(f"plot: {plot}")


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
    out.print(table)


def main(argv: list[str] | None = None) -> int:
    """Entry point for the ``drnet-edge`` script."""
    try:
        app(args=argv, standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
