"""The documents cite only what a clone has: every repository path in README.md and docs/*.md exists,
every relative link (and its #anchor) resolves, and nothing (benchmark reports included) points into
../shared. benchmarks/README.md lists every benchmark script under its group folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

# Top-level entries that are not part of a clone (made by installing or running) or are outputs:
# paths under them are examples, never citations.
NOT_CITABLE = {".git", ".venv", "out", "runs", ".pytest_cache", ".ruff_cache"}
SUFFIXES = (".py", ".sh", ".md", ".json", ".jsonl", ".png", ".toml", ".txt", ".java", ".kt", ".kts", ".tmpl")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
SPAN = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\]\(([^)\s]+)\)")
PLACEHOLDER = re.compile(r"[*?<>$\[\]]|\.\.\.")


def top_level() -> set[str]:
    return {p.name for p in REPO.iterdir() if p.name not in NOT_CITABLE and not p.name.endswith(".egg-info")}


def expand_braces(token: str) -> list[str]:
    """``a.{md,json}`` -> ``a.md``, ``a.json`` (one brace group, as the docs write them)."""
    m = re.search(r"\{([^{}]*)\}", token)
    if not m:
        return [token]
    return [token[: m.start()] + alt + token[m.end() :] for alt in m.group(1).split(",")]


def cited_paths(text: str, roots: set[str]) -> set[str]:
    """Repository paths in backticks: a token with a ``/`` or a known suffix whose first component is a
    top-level entry of the repository. URLs, globs and placeholders are skipped."""
    found = set()
    for span in SPAN.findall(text):
        for raw in span.split():
            token = raw.strip("()[],;'\"")
            if "://" in token or token.startswith(("-", "/", "~")) or PLACEHOLDER.search(token):
                continue
            for path in expand_braces(token):
                path = path.split(":", 1)[0] if re.search(r"\.\w+:", path) else path  # file.py:function
                if ("/" in path or path.endswith(SUFFIXES)) and path.split("/", 1)[0] in roots:
                    found.add(path)
    return found


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    body = FENCE.sub("", doc.read_text())
    return {slug(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", body, re.M)}


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_cited_repository_paths_exist(doc: Path) -> None:
    text = FENCE.sub("", doc.read_text())
    missing = sorted(p for p in cited_paths(text, top_level()) if not (REPO / p).exists())
    assert not missing, f"{doc.name} cites paths this repository does not have: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve(doc: Path) -> None:
    broken = []
    for target in LINK.findall(FENCE.sub("", doc.read_text())):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        path = (doc.parent / file).resolve() if file else doc
        if file and (not path.is_relative_to(REPO) or path.relative_to(REPO).parts[0] in NOT_CITABLE):
            broken.append(f"{target} (outside the repository's files)")
        elif not path.exists():
            broken.append(target)
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(f"{target} (no such heading)")
    assert not broken, f"{doc.name} has broken links: {broken}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_no_document_cites_files_outside_the_clone(doc: Path) -> None:
    assert "../shared" not in doc.read_text(), f"{doc.name} cites ../shared, which a clone does not have"


BENCH = REPO / "benchmarks"
GROUPS = ("release", "reproduce", "probes")


def test_benchmarks_readme_names_every_script_by_its_group() -> None:
    """benchmarks/README.md lists each script under its group folder (release/, reproduce/, probes/), each
    script it lists exists there, and no script is left at the top of benchmarks/."""
    group = "|".join(GROUPS)
    named = set(re.findall(rf"`((?:{group})/[\w.-]+\.(?:py|sh))`", (BENCH / "README.md").read_text()))
    scripts = {
        p.relative_to(BENCH).as_posix() for g in GROUPS for p in (BENCH / g).iterdir() if p.suffix in (".py", ".sh")
    }
    assert not named - scripts, f"benchmarks/README.md lists scripts that do not exist: {sorted(named - scripts)}"
    assert not scripts - named, f"benchmarks/README.md does not list: {sorted(scripts - named)}"
    assert not [p.name for p in BENCH.iterdir() if p.suffix in (".py", ".sh")], "scripts go in a group folder"


@pytest.mark.parametrize("doc", sorted(BENCH.rglob("*.md")), ids=lambda p: str(p.relative_to(REPO)))
def test_benchmark_reports_cite_no_files_outside_the_clone(doc: Path) -> None:
    """The committed reports name their photo sets, not ../shared paths a clone does not have."""
    assert "../shared" not in doc.read_text(), f"{doc.name} cites ../shared, which a clone does not have"


def test_the_checker_sees_paths() -> None:
    roots = {"benchmarks", "converters", "docs", "Makefile", "pyproject.toml"}
    text = (
        "`bash benchmarks/a.sh` `benchmarks/results/b.{md,json}` `converters/base.py:fn` `pyproject.toml` "
        "`out/demo/eval.json` `benchmarks/results/c.*` `bench_local_<p>.json` `https://x.org/a.py` `--out DIR`"
    )
    assert cited_paths(text, roots) == {
        "benchmarks/a.sh",
        "benchmarks/results/b.md",
        "benchmarks/results/b.json",
        "converters/base.py",
        "pyproject.toml",
    }
    assert (
        slug("## 4b. int8 against fp32, paired, on 2,372 photos".lstrip("# "))
        == "4b-int8-against-fp32-paired-on-2372-photos"
    )


def test_cli_reference_tables_are_the_commands_own() -> None:
    """docs/cli.md's command list and every command's option table are what the commands say (rendered by
    drnet_edge/cli/reference.py from the typer app, hidden options left out), one table per command, so no
    flag, type, default or help line can drift from ``--help``."""
    from drnet_edge.cli.reference import BLOCK, commands, render, stale_blocks

    text = (REPO / "docs" / "cli.md").read_text()
    blocks = [m.group("what") for m in BLOCK.finditer(text)]
    assert sorted(blocks) == sorted(["commands", *(f"options {name}" for name in commands())]), blocks
    stale = stale_blocks(text)
    assert not stale, f"docs/cli.md's tables {stale} differ from the commands: run python -m drnet_edge.cli.reference"
    convert = render("options convert")
    assert "`--quant-data`" in convert and "`--calib`" not in convert  # the old name works, hidden
    drifted = text.replace("| `--quant-count` | int x>=1 | `100` |", "| `--quant-count` | int | `100` |")
    assert stale_blocks(drifted) == ["options convert"]


def test_help_texts_lose_no_bracketed_words() -> None:
    """Rich renders ``--help``: an unescaped ``[word]`` is taken for markup and vanishes (``needs the [build]
    extra`` printed as ``needs the  extra``)."""
    from drnet_edge.cli.reference import swallowed_markup

    assert swallowed_markup() == [], "escape the bracket as \\[ in these help texts"


@pytest.mark.slow
def test_the_package_docstring_example_runs(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """``drnet_edge``'s docstring example, as written (on 8 photos): it once read ``policies["drnet"]``, a
    KeyError where the bundled model's calibrated default is the policy evaluated."""
    import drnet_edge as de

    example = de.__doc__.split("::", 1)[1].split('"""')[0]
    evaluate = de.evaluate
    monkeypatch.setattr(de, "evaluate", lambda *a, **kw: evaluate(*a, **kw, limit=8, progress=False))
    scope: dict = {}
    exec(compile(example.replace("\n    ", "\n").strip(), "drnet_edge.__doc__", "exec"), scope)
    name, top1, macs_m = capsys.readouterr().out.split()
    assert name == scope["report"].default_policy != "drnet" and 0 <= float(top1) <= 1 and float(macs_m) > 0
