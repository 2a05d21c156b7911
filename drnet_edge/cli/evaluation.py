"""``eval`` and ``calibrate``: accuracy per policy, and choosing the default policy."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer

from ..errors import ConfigError
from ._app import (
    _existing_file,
    app,
    check_output_paths,
    check_runtime,
    console,
    friendly,
    quiet_runtimes,
    save_output,
    save_plot_output,
)


# Long only for its typer option declarations (one per flag); the body is a few calls.
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
        typer.Option(
            help="Comma-separated: fixed, fixed-R, default, cascade-160:0.7-224, drnet, drnet-escalate:0.7, "
            "random, random-POLICY, oracle, oracle-agree, baseline. Default: fixed + the model's default policy "
            "and its random control."
        ),
    ] = None,
    subset: Annotated[
        str | None, typer.Option(help="Hash-based split: test:K/N keeps fold K of N, train:K/N the rest.")
    ] = None,
    runtime: Annotated[
        str | None,
        typer.Option(
            help="With --artifacts: the runtime to run them in (tflite, executorch, onnx). Default: the manifest's "
            "choice (TFLite when it holds TFLite files)."
        ),
    ] = None,
    artifacts: Annotated[Path | None, typer.Option(help="Artifact directory written by drnet-edge convert.")] = None,
    classes: Annotated[
        Path | None, typer.Option(help="Class list file ('id \\[name]' per line) in model-output order.")
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
    from ..policy.registry import check_policy_syntax, policy_names
    from ..resolutions import parse_resolutions

    check_output_paths(files=(("--json", json_out),), plots=(("--plot", plot),))
    if resolutions is not None:
        parse_resolutions(resolutions)  # "" is a mistake, not "the model's"
    if policies is not None:
        check_policy_syntax(policy_names(policies))  # a typo answers before torch is even imported

    from .._io import atomic_write_json
    from ..data.classes import read_class_file
    from ..data.folders import sample_dir
    from ..evaluate import evaluate
    from ..plots import save_plot
    from ..tables import policy_table, table_footer

    if threads and artifacts is None:  # converted files run without PyTorch; --threads goes to their runtime
        import torch

        torch.set_num_threads(threads)
    _existing_file(weights, "--weights")
    class_list = read_class_file(classes) if classes else None
    with quiet_runtimes(json_out or plot, "eval") if artifacts is not None else nullcontext():
        check_runtime(runtime)  # inside: importing the runtimes prints (ExecuTorch's cpuinfo lines)
        result = evaluate(
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
        )
    report = result.to_json()
    if artifacts is not None:
        console.print(_ran_in(report["runtime"], report.get("precision"), runtime))
    console.print(policy_table(report))
    console.print(f"[dim]{table_footer(report)}[/]")
    ok = save_output("--json", json_out, lambda p: atomic_write_json(p, report), "JSON")
    ok &= save_plot_output("--plot", plot, report, save_plot, "macs_m")
    if not ok:
        raise typer.Exit(2)


@app.command("calibrate")
@friendly
def calibrate_cmd(
    data: Annotated[Path, typer.Option(help="Calibration photos (never the ones you evaluate on).")],
    out: Annotated[
        Path | None,
        typer.Option(
            help="A checkpoint: write it, carrying the chosen policy, here. With --artifacts: write a copy of the "
            "artifact directory here instead of updating its manifest in place."
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="DRNet checkpoint path or bundled model name (default: lite0-imagenet).")
    ] = None,
    artifacts: Annotated[
        Path | None,
        typer.Option(
            help="Calibrate converted files (int8 included) instead: the chosen policy goes into their "
            "manifest as --runtime's policy; the model files are not touched."
        ),
    ] = None,
    runtime: Annotated[
        str | None,
        typer.Option(
            help="With --artifacts: the runtime to run them in (tflite, executorch, onnx). Default: the manifest's "
            "choice (TFLite when it holds TFLite files)."
        ),
    ] = None,
    max_drop: Annotated[
        float | None,
        typer.Option(
            help="Cheapest policy whose top-1 drop vs the largest resolution is at most this (points). "
            "Default 0.5 unless --target-ratio is given."
        ),
    ] = None,
    target_ratio: Annotated[
        float | None, typer.Option(help="Most accurate policy within this share of the largest resolution's MACs.")
    ] = None,
    require_bound: Annotated[
        bool,
        typer.Option(
            "--require-bound", help="--max-drop constrains the 95% upper bound on the drop, not the estimate."
        ),
    ] = False,
    folds: Annotated[int, typer.Option(min=2, help="Folds for the out-of-fold estimate of each policy family.")] = 5,
    min_photos: Annotated[
        int,
        typer.Option(min=0, help="Refuse fewer calibration photos than this (few decide little; 0: no check)."),
    ] = 100,
    subset: Annotated[
        str | None, typer.Option(help="Hash-based split of --data: test:K/N keeps fold K of N, train:K/N the rest.")
    ] = None,
    classes: Annotated[Path | None, typer.Option(help="Class list file (one 'id name' per line).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Use at most N photos.")] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="Threads for the runtime (and torch).")] = None,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="Skip unreadable images.")] = False,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the calibration record as JSON here.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Choose a default policy (family out of fold, then its thresholds) on calibration photos; write a
    checkpoint, or record it in converted artifacts' manifest."""
    from .._io import atomic_write_json, check_writable
    from ..calibrate import calibrate
    from ..data.classes import read_class_file
    from ..policy.selection import objective_of
    from ..tables import calibration_table

    objective_of(max_drop, target_ratio, require_bound)  # every range before any model loads
    if artifacts is not None:
        _artifact_dir(artifacts)  # (a folder that takes no manifest.json is refused by calibrate, before any load)
        check_output_paths(files=(("--json", json_out),))
        if out is not None:
            if out.resolve() == artifacts.resolve():
                raise ConfigError("--out is the --artifacts directory: drop --out to update it in place")
            if out.exists() and not (out / "manifest.json").is_file():
                raise ConfigError(f"--out {out} exists and is not an artifact directory; choose a new path")
            check_writable(out, "--out", directory=True)
    else:
        check_output_paths(files=(("--out", out), ("--json", json_out)))
    if threads and artifacts is None:  # converted files run without PyTorch; --threads goes to their runtime
        import torch

        torch.set_num_threads(threads)
    with quiet_runtimes(json_out, "calibrate") if artifacts is not None else nullcontext():
        check_runtime(runtime)
        result = calibrate(
            model,
            str(data),
            str(out) if out else None,
            artifacts=str(artifacts) if artifacts else None,
            runtime=runtime,
            threads=threads,
            max_drop=max_drop,
            target_ratio=target_ratio,
            require_bound=require_bound,
            subset=subset,
            limit=limit,
            classes=read_class_file(classes) if classes else None,
            skip_bad=skip_bad,
            min_photos=min_photos,
            folds=folds,
            progress=not quiet,
        )
    if artifacts is not None:
        ran = result.record["calibration"]["source"]
        console.print(_ran_in(ran["runtime"], ran.get("precision"), runtime))
    console.print(calibration_table(result))
    if not save_output("--json", json_out, lambda p: atomic_write_json(p, result.record), "JSON"):
        raise typer.Exit(2)
    if artifacts is not None:
        console.print(f"policy recorded for {ran['runtime']} in {result.out}")
    else:
        console.print(f"checkpoint: {out}" if out else "[dim]no --out: nothing written[/]")


def _ran_in(runtime: str, precision: str | None, asked: str | None) -> str:
    """Which runtime ran converted files: the one asked for, or the manifest's choice."""
    how = "--runtime" if asked else "chosen from the manifest; --runtime picks another"
    return f"[dim]runtime: {runtime} ({precision or '?'}, {how})[/]"


def _artifact_dir(path: Path) -> None:
    if not (path / "manifest.json").is_file():
        raise ConfigError(f"--artifacts {path} is not an artifact directory (no manifest.json); see drnet-edge convert")
