"""Markdown for consent texts, rendered safely: no raw HTML, no images, safe links only."""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt
from markupsafe import Markup


@cache
def _renderer() -> MarkdownIt:
    # html=False escapes any HTML in the source; the default link check refuses
    # javascript:, vbscript:, file: and data: (except images, disabled below).
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")


def render(text: str) -> Markup:
    return Markup(_renderer().render(text or ""))
