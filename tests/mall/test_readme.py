"""The README renders as intended with a CommonMark parser: every code fence is labelled and
closed (an unlabelled stray fence once swallowed every section after "Operators' commands"),
no heading hides inside a code block, and the expected sections render as headings."""

from __future__ import annotations

from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

README = Path(__file__).resolve().parents[2] / "README.md"
SECTIONS = [
    "Quick start",
    "The two commands, explained",
    "A sandbox purchase, quote to paid, with curl",
    "The merchant console",
    "What is in it",
    "Configuration",
    "Running it for real: docker compose",
    "Operators' commands",
    "Background jobs",
    "Tests and benchmarks",
]


def _tokens() -> tuple[list[str], list[Token]]:
    text = README.read_text(encoding="utf-8")
    return text.splitlines(), MarkdownIt("commonmark").enable("table").parse(text)


def test_every_fence_is_labelled_and_closed() -> None:
    lines, tokens = _tokens()
    fences = [t for t in tokens if t.type == "fence"]
    assert fences
    for fence in fences:
        start, end = fence.map or (0, 0)
        opening = lines[start].strip()
        assert fence.info.strip(), f"README line {start + 1}: unlabelled fence {opening!r}"
        # A closed fence ends on its closing line; an unclosed one runs to the end of the file.
        closing = lines[end - 1].strip() if end - 1 > start else ""
        assert closing.startswith(fence.markup) and closing.strip("`~") == "", (
            f"README line {start + 1}: the fence opened here is never closed"
        )
        for offset, line in enumerate(fence.content.splitlines()):
            assert not line.startswith(("## ", "```")), (
                f"README line {start + 2 + offset}: {line!r} inside a code block"
            )
    raw_fence_lines = [n for n, line in enumerate(lines) if line.lstrip().startswith("```")]
    assert len(raw_fence_lines) == 2 * len(fences), "a fence line that opens or closes nothing"


def test_the_sections_render_as_headings() -> None:
    _, tokens = _tokens()
    headings = [
        tokens[i + 1].content
        for i, t in enumerate(tokens)
        if t.type == "heading_open" and t.tag == "h2"
    ]
    assert headings == SECTIONS
