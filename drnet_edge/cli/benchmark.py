"""``bench``: converted artifacts measured on a device (latency, energy) against fixed resolutions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ..errors import DrnetEdgeError
from ..policy.registry import policy_names
from ._app import app, check_output_paths, console, err, friendly, quiet_runtimes, save_output, save_plot_output


@app.command("bench")
@friendly
def bench_cmd(
    artifacts: Annotated[Path, typer.Option(help="Artifact directory written by drnet-edge convert.")],
    device: Annotated[
        str,
        typer.Option(
            help="local, a device profile (e.g. pixel7), an adb serial, android (the one phone), or a board: "
            "ssh://\\[user@]host\\[:port]."
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
    from ..bench.report.markdown import save_markdown
    from ..bench.report.plot import save_latency_plot
    from ..bench.report.tables import bench_table, model_table, op_profile_table

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
