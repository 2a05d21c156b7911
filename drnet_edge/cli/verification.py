"""``verify``: converted models run on aarch64 kernels (emulated) and compared with this host."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._app import app, check_output_paths, console, err, friendly, quiet_runtimes, save_output


# Long only for its typer option declarations; the body is a few calls.
@app.command("verify")
@friendly
def verify_cmd(
    artifacts: Annotated[
        list[Path], typer.Option(help="Artifact directory written by drnet-edge convert (repeatable).")
    ],
    arch: Annotated[
        str, typer.Option(help="aarch64 (an emulated Debian userland) or host (the worker natively: a self-test).")
    ] = "aarch64",
    cpu: Annotated[
        list[str] | None,
        typer.Option(
            help="Emulated CPU (repeatable): pixel7 (cortex-a76, dotprod), nodotprod (cortex-a53), i8mm (max,sme=off), max. "
            "Default: pixel7 and nodotprod."
        ),
    ] = None,  # fmt: skip
    data: Annotated[Path | None, typer.Option(help="Photos to run (default: the bundled sample).")] = None,
    subset: Annotated[
        str | None, typer.Option(help="Hash-based split of --data: test:K/N keeps fold K of N, train:K/N the rest.")
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, help="At most N photos (about 0.3-0.5 s per photo per model under emulation).")
    ] = 32,
    setup: Annotated[
        bool,
        typer.Option(
            "--setup",
            help="Set up what is missing: mount binfmt_misc and register qemu's aarch64 handler (changes the whole "
            "machine), and build the userland once (~10 min). Root.",
        ),
    ] = False,
    wheel: Annotated[
        Path | None,
        typer.Option(
            help="The drnet_edge-*.whl to install in the userland (default: a wheel built from this source tree; "
            "an install from a wheel has no tree and needs this)."
        ),
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the results as JSON here.")] = None,
    report: Annotated[Path | None, typer.Option(help="Write a Markdown report here.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
) -> None:
    """Run every TFLite/ExecuTorch model of the artifacts on aarch64 under emulation and compare with this
    host: top-1 each side, agreement and the largest output difference, per model and per policy.
    Numerics only: nothing is timed under the emulator."""
    from .._io import atomic_write_json
    from ..verify.check import DEFAULT_CPUS, VerifyOptions, run_verify
    from ..verify.findings import model_table, notes, policy_table, save_markdown

    opts = VerifyOptions(
        artifacts=list(artifacts), arch=arch, data=data, subset=subset, limit=limit,
        cpus=list(cpu or DEFAULT_CPUS), setup=setup, wheel=wheel, progress=not quiet,
        log=lambda m: err.print(m, highlight=False, markup=False),
    )  # fmt: skip
    opts.validate()
    check_output_paths(files=(("--json", json_out), ("--report", report)))
    if arch == "aarch64" and not setup:
        from ..verify.userland import check_ready

        check_ready()  # qemu, binfmt_misc, the userland: what is missing, and what --setup does, before any work
    with quiet_runtimes(json_out or report, "verify"):
        result = run_verify(opts)
    console.print(model_table(result))
    if result["policies"]:
        console.print(policy_table(result))
    for line in notes(result)[1:]:
        console.print(f"[dim]{line}[/]", highlight=False)
    ok = save_output("--json", json_out, lambda p: atomic_write_json(p, result), "JSON")
    ok &= save_output("--report", report, lambda p: save_markdown(p, result), "report")
    if not ok:
        raise typer.Exit(2)
