"""``predict``: classify photos with converted files (or a checkpoint), photo by photo, under the default policy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ._app import app, check_output_paths, check_runtime, console, friendly, quiet_runtimes, save_output

SHOWN = 100  # rows of the on-screen table; --json holds every photo


@app.command("predict")
@friendly
def predict_cmd(
    photos: Annotated[list[Path], typer.Argument(help="Photos, or folders of photos (searched recursively).")],
    artifacts: Annotated[
        Path | None, typer.Option(help="Artifact directory written by drnet-edge convert (deploy side).")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            help="Instead of --artifacts: a checkpoint or bundled model, run in PyTorch (fp32; needs the \\[build] extra)."
        ),
    ] = None,
    runtime: Annotated[
        str | None, typer.Option(help="tflite, executorch or onnx (default: tflite if the artifacts hold it).")
    ] = None,
    policy: Annotated[
        str | None,
        typer.Option(
            help="A deployable policy (fixed-R, drnet, drnet-escalate:T, cascade-R:T-...-R); default: the one "
            "the manifest records for the runtime."
        ),
    ] = None,
    top: Annotated[
        int, typer.Option(min=1, help="Classes to list per photo, most likely first (the table and --json).")
    ] = 1,
    threads: Annotated[int | None, typer.Option(min=1, help="Runtime threads.")] = None,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Skip unreadable photos (counted and named) instead of stopping.")
    ] = False,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write every photo's answer as JSON here.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Classify photos with converted files (or a checkpoint): class, confidence, stages run and their times
    per photo."""
    from .._io import atomic_write_json
    from ..errors import ConfigError
    from ..policy.registry import check_policy_syntax, policy_names
    from ..predict import predict

    check_output_paths(files=(("--json", json_out),))
    if policy is not None:
        names = policy_names(policy)
        if len(names) != 1:
            raise ConfigError(f"--policy {policy}: give one policy (it names {len(names)}); compare several with bench")
        check_policy_syntax(names)
    check_runtime(runtime)
    with quiet_runtimes(json_out, "predict"):
        report = predict(
            artifacts, photos, model=model, runtime=runtime, policy=policy, top_k=top, skip_bad=skip_bad,
            threads=threads, progress=not quiet,
        )  # fmt: skip
    console.print(photo_table(report))
    s = report.summary()
    mix = ", ".join(f"{r} px {100 * v:.0f}%" for r, v in s["answered_at"].items())
    console.print(
        f"{s['photos']} photos, policy {report.policy} ({report.policy_source}; {report.runtime} {report.precision}): "
        f"{s['mean_passes']:.2f} passes and {s['ms_per_photo_mean']:.1f} ms a photo on average "
        f"(median {s['ms_per_photo_p50']:.1f}; decode excluded); answered at {mix}",
        highlight=False,
        markup=False,
    )
    if report.skipped_bad:
        console.print(f"skipped unreadable: {len(report.skipped_bad)} ({', '.join(report.skipped_bad[:5])}"
                      + (", ..." if len(report.skipped_bad) > 5 else "") + ")", highlight=False, markup=False)  # fmt: skip
    if not save_output("--json", json_out, lambda p: atomic_write_json(p, report.to_json()), "JSON"):
        raise typer.Exit(2)


def photo_table(report) -> Table:  # noqa: ANN001  (a PredictReport; imported lazily with the runtimes)
    """One row per photo (the first :data:`SHOWN`): class, confidence, stages run, milliseconds."""
    table = Table(title=f"{report.artifacts} ({report.runtime} {report.precision}), policy {report.policy}")
    for col, just in (("photo", "left"), ("class", "left"), ("conf.", "right"), ("ran", "left"), ("ms", "right")):
        table.add_column(col, justify=just, overflow="fold")  # type: ignore[arg-type]
    for p in report.photos[:SHOWN]:
        stages = ("predictor, " if p.predictor_ms else "") + " -> ".join(f"{r}" for r in p.ran)
        names = "\n".join(str(t["name"]) for t in p.top)  # --top K: the K classes, one line each
        confidences = "\n".join(f"{100 * t['probability']:.0f}%" for t in p.top)
        table.add_row(Path(p.path).name, names, confidences, stages, f"{p.total_ms:.1f}")
    if len(report.photos) > SHOWN:
        table.caption = f"{len(report.photos) - SHOWN} more photos in --json"
    return table
