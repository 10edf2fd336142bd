"""The project's own docs: every docs/*.md path, section and anchor the repository cites exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: Where citations live: code, tests, benchmarks, the README, the packaging file and the docs.
CITING = [
    "core",
    "gui",
    "tests",
    "benchmarks",
    "data",
    "resources",
    "README.md",
    "pyproject.toml",
    "docs",
]
#: ``docs/NAME.md``, optionally followed by ``§N`` (a numbered section) or ``#anchor``.
CITATION = re.compile(r"docs/([\w.-]+\.md)(?:\s*§\s*(\d+)|#([\w-]+))?")
#: A relative markdown link between docs pages: ``[text](page.md#anchor)`` or ``(#anchor)``.
LINK = re.compile(r"\]\((?!https?:)([\w.-]+\.md)?(?:#([\w-]+))?\)")
#: Bare names of the reference documents that are not part of the repository.
BARE = re.compile(r"(?<![\w/])(metrics|statistics|labelling-ux|architecture)\.md")


def _files() -> list[Path]:
    out: list[Path] = []
    for name in CITING:
        path = ROOT / name
        if path.is_file():
            out.append(path)
        elif path.is_dir():
            out += [p for p in path.rglob("*") if p.suffix in {".py", ".md", ".toml", ".txt", ".cfg"}
                    and "data/alpaca_eval" not in p.as_posix()]  # fmt: skip
    return sorted(p for p in out if p != Path(__file__).resolve())  # this file names patterns


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def headings(page: Path) -> list[str]:
    """Markdown headings of ``page`` (outside code fences), without the leading #."""
    out, fenced = [], False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (m := re.match(r"#{1,6}\s+(.*)", line)):
            out.append(m.group(1).strip())
    return out


def _check(page_name: str, section: str | None, anchor: str | None, where: str) -> list[str]:
    page = DOCS / page_name
    if not page.is_file():
        return [f"{where}: cites docs/{page_name}, which does not exist"]
    titles = headings(page)
    if section is not None and not any(re.match(rf"{section}\.\s", t) for t in titles):
        return [
            f"{where}: cites docs/{page_name} §{section}, which has no heading '## {section}. ...'"
        ]
    if anchor is not None and anchor not in {slug(t) for t in titles}:
        return [f"{where}: cites docs/{page_name}#{anchor}, which matches no heading of that page"]
    return []


def test_docs_pages_exist_and_are_indexed():
    pages = {p.name for p in DOCS.glob("*.md")}
    assert {"README.md", "metrics.md", "statistics.md", "labelling.md", "architecture.md"} <= pages
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    assert not [p for p in pages - {"README.md"} if f"({p})" not in index], (
        "docs/README.md must link every page"
    )


def test_every_cited_docs_path_section_and_anchor_exists():
    problems, n = [], 0
    for path in _files():
        rel = path.relative_to(ROOT).as_posix()
        for lineno, line in enumerate(
            path.read_text(encoding="utf-8", errors="replace").splitlines(), 1
        ):
            for m in CITATION.finditer(line):
                n += 1
                problems += _check(m.group(1), m.group(2), m.group(3), f"{rel}:{lineno}")
    assert n >= 8, f"only {n} citations found: is the scan looking in the right places?"
    assert not problems, "\n".join(problems)


def test_links_between_docs_pages_resolve():
    problems = []
    for page in sorted(DOCS.glob("*.md")):
        for lineno, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            for m in LINK.finditer(line):
                target, anchor = m.group(1) or page.name, m.group(2)
                problems += _check(target, None, anchor, f"docs/{page.name}:{lineno}")
    assert not problems, "\n".join(problems)


def test_code_cites_docs_by_their_path_not_by_a_bare_name():
    """The reference documents live outside the repository; the code cites ``docs/...`` only."""
    bare = []
    for path in _files():
        if path.parent == DOCS:
            continue
        for lineno, line in enumerate(
            path.read_text(encoding="utf-8", errors="replace").splitlines(), 1
        ):
            if BARE.search(line):
                bare.append(f"{path.relative_to(ROOT).as_posix()}:{lineno}: {line.strip()}")
    assert not bare, "cite docs/NAME.md instead:\n" + "\n".join(bare)


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [("Length-controlled win rate (AlpacaEval 2.0)", "length-controlled-win-rate-alpacaeval-20"),
     ("3. Confidence intervals for win rates with ties", "3-confidence-intervals-for-win-rates-with-ties"),
     ("Agreement: which one is which", "agreement-which-one-is-which")],
)  # fmt: skip
def test_slug_follows_github(heading, anchor):
    assert slug(heading) == anchor
