"""A figure as the report needs it: inline SVG, its alt text and the table behind it."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Figure:
    """`svg` is one standalone <svg> element (ids prefixed so several can share a page); `alt`
    says what it shows with numbers; `table`/`columns` are the data behind it, rounded for display,
    printed beside the figure so nothing is only in a picture."""

    svg: str
    alt: str
    table: list[dict] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)


def wrap(text: str, width: int) -> list[str]:
    """Words into lines of at most `width` characters (a longer word gets a line of its own): SVG
    text does not wrap by itself, so map legends and chart footnotes are broken here."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return lines + ([line] if line else [])
