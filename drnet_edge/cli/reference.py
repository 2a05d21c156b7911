"""The command reference's tables rendered from the commands themselves, so docs/cli.md cannot drift
from ``--help``: the list of commands (each one's help line) and each command's options (name, value,
default, help), hidden options (old names kept working) left out.

``python -m drnet_edge.cli.reference [--check] [FILE]`` rewrites, or with ``--check`` only compares, every
block between ``<!-- generated: WHAT -->`` and ``<!-- end generated -->`` in FILE (default: docs/cli.md
of this checkout), WHAT being ``commands`` or ``options COMMAND``; the prose around them is kept.
tests/test_docs.py fails when a block differs from what the commands say.
"""

from __future__ import annotations

import re
import sys
import typing
from pathlib import Path
from typing import Any

BLOCK = re.compile(r"(<!-- generated: (?P<what>[^>]+?) -->\n)(?P<body>.*?)(<!-- end generated -->)", re.S)
DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
_TYPES = {Path: "path", str: "text", int: "int", float: "float", bool: "flag"}


def commands() -> dict[str, Any]:
    """``drnet-edge``'s commands as click sees them, in ``--help`` order."""
    import typer.main

    from . import app

    return dict(typer.main.get_command(app).commands)


def _plain(text: str) -> str:
    """A help text as ``--help`` shows it: Rich markup rendered (``\\[`` is a bracket, ``[bold]`` a style)."""
    from rich.text import Text

    return Text.from_markup(text).plain


def _cell(text: str) -> str:
    return " ".join(_plain(text).split()).replace("|", "\\|")


def swallowed_markup() -> list[str]:
    """Help texts (``command``, ``command --option``) that lose words in ``--help`` because Rich took a
    bracketed word for markup (write ``\\[word]``)."""
    out = []
    for name, c in commands().items():
        texts = [(name, c.help or "")] + [(f"{name} {p.name}", p.help or "") for p in c.params if not p.hidden]
        out += [where for where, text in texts if _plain(text) != text.replace("\\[", "[")]
    return out


def _value(p: Any) -> str:
    """``path``, ``int x>=1``, ``text, repeatable``, ``flag``: the value an option takes."""
    if getattr(p, "is_flag", False):
        return "flag"
    descriptor = getattr(p, "type_descriptor", None)  # typer's own click
    if descriptor is not None:
        kind = descriptor.annotation
        if typing.get_origin(kind) in (list, tuple):
            kind = typing.get_args(kind)[0]
        name = _TYPES.get(kind, getattr(kind, "__name__", str(kind)).lower())
        low, high = p.min, p.max
    else:  # click's own types
        name = {"integer": "int", "integer range": "int", "float range": "float"}.get(p.type.name, p.type.name)
        low, high = getattr(p.type, "min", None), getattr(p.type, "max", None)
    if low is not None and high is not None:
        name += f" {low}<=x<={high}"
    elif low is not None:
        name += f" x>={low}"
    elif high is not None:
        name += f" x<={high}"
    return name + (", repeatable" if p.multiple or p.nargs == -1 else "")


def _default(p: Any) -> str:
    if p.required:
        return "required"
    if getattr(p, "is_flag", False):
        if not p.secondary_opts:
            return "" if not p.default else "on"
        return f"`{(p.opts[0] if p.default else p.secondary_opts[0]).removeprefix('--')}`"
    if p.default is None or p.default == ():
        return ""
    value = ", ".join(map(str, p.default)) if isinstance(p.default, list | tuple) else str(p.default)
    return f"`{value}`"


def option_rows(command: Any) -> list[tuple[str, str, str, str]]:
    """``(option, value, default, what)`` per visible parameter of a click command, in ``--help`` order;
    arguments by their upper-case name."""
    rows = []
    for p in command.params:
        if getattr(p, "hidden", False):
            continue
        names = [*p.opts, *p.secondary_opts] if p.param_type_name == "option" else [p.name.upper()]
        rows.append((" / ".join(f"`{n}`" for n in names), _value(p), _default(p), _cell(p.help or "")))
    return rows


def render(what: str) -> str:
    """The Markdown table a ``<!-- generated: WHAT -->`` block holds."""
    cmds = commands()
    if what == "commands":
        lines = ["| command | what it does (its `--help` line) |", "|---|---|"]
        lines += [f"| `{name}` | {_cell((c.help or '').split(chr(10) * 2)[0])} |" for name, c in cmds.items()]
    else:
        kind, _, name = what.partition(" ")
        if kind != "options" or name not in cmds:
            raise ValueError(f"unknown generated block {what!r} (commands, or options COMMAND: {', '.join(cmds)})")
        lines = ["| option | value | default | what |", "|---|---|---|---|"]
        lines += ["| " + " | ".join(row) + " |" for row in option_rows(cmds[name])]
    return "\n".join(lines) + "\n"


def regenerate(text: str) -> str:
    """``text`` with every generated block rendered anew."""
    return BLOCK.sub(lambda m: m.group(1) + render(m.group("what")) + m.group(4), text)


def stale_blocks(text: str) -> list[str]:
    """The generated blocks of ``text`` that differ from what the commands say."""
    return [m.group("what") for m in BLOCK.finditer(text) if m.group("body") != render(m.group("what"))]


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    args = [a for a in args if a != "--check"]
    doc = Path(args[0]) if args else DOC
    text = doc.read_text()
    if check:
        stale = stale_blocks(text)
        for what in stale:
            print(f"{doc}: the generated block '{what}' differs from the commands", file=sys.stderr)
        return 1 if stale else 0
    new = regenerate(text)
    if new != text:
        doc.write_text(new)
        print(f"{doc}: {len(stale_blocks(text))} generated block(s) rewritten")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
