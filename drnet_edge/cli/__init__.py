"""``drnet-edge`` command line: a thin layer over the library. Errors become messages, not tracebacks.

One module per group of commands; importing them registers the commands on :data:`app`.
"""

from __future__ import annotations

import sys

import click
import typer

from . import evaluation, prediction, training, conversion, benchmark, verification, info  # noqa: F401  isort: skip  (registers the commands in this order)
from ._app import app, console, err, error, friendly

__all__ = ["app", "console", "err", "friendly", "main"]

# click's errors, and those of the copy of click that recent typer releases carry
_CLICK_ERRORS = tuple(
    {c for c in (*click.BadParameter.__mro__, *typer.BadParameter.__mro__) if c.__name__ == "ClickException"}
)


def main(argv: list[str] | None = None) -> int:
    """Entry point for the ``drnet-edge`` script. ``--verbose`` is a global option; given after the
    command (``drnet-edge eval ... --verbose``) it is moved in front of it."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "--verbose" in args[1:]:
        args = ["--verbose", *(a for a in args if a != "--verbose")]
    try:
        rv = app(args=args, standalone_mode=False)
    except _CLICK_ERRORS as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            exc.show()  # the help itself, as with no arguments at all
            return exc.exit_code
        # a value the command line refuses (a range, a type, an unknown option): one line, like every refusal
        ctx = getattr(exc, "ctx", None)
        command = ctx.command_path.removeprefix(ctx.find_root().info_name or "").strip() if ctx else ""
        hint = f" (drnet-edge {command} --help lists the options)" if command else ""
        error(f"{exc.format_message()}{hint}")
        return exc.exit_code
    except (typer.Abort, click.exceptions.Abort):
        return 130
    except SystemExit as exc:
        return int(exc.code or 0)
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
