"""``drnet-edge`` command line: a thin layer over the library. Errors become messages, not tracebacks.

One module per group of commands; importing them registers the commands on :data:`app`.
"""

from __future__ import annotations

import sys

from . import evaluation, prediction, training, device, verification, info  # noqa: F401  isort: skip  (registers the commands in this order)
from ._app import app, console, err, friendly

__all__ = ["app", "console", "err", "friendly", "main"]


def main(argv: list[str] | None = None) -> int:
    """Entry point for the ``drnet-edge`` script. ``--verbose`` is a global option; given after the
    command (``drnet-edge eval ... --verbose``) it is moved in front of it."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "--verbose" in args[1:]:
        args = ["--verbose", *(a for a in args if a != "--verbose")]
    try:
        app(args=args, standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
