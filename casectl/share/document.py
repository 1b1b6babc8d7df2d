"""A small document model for handouts, and its two renderings: Markdown and self-contained HTML.

The care plan is written once as blocks of plain text; each renderer escapes every piece of
text itself, so a name such as `<script>` or `*Ana*` is shown as written in both formats and
can never become markup.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    text: str
    strong: bool = False


Line = tuple[Span, ...]


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    line: Line


@dataclass(frozen=True)
class Items:
    """A list; each item is a first line and any further lines under it."""

    items: tuple[tuple[Line, ...], ...]


@dataclass(frozen=True)
class Notice:
    """Text that must stand out (what to do if things get worse)."""

    lines: tuple[Line, ...]


Block = Heading | Paragraph | Items | Notice


@dataclass(frozen=True)
class Document:
    title: str
    lang: str  # BCP 47, for <html lang>
    blocks: tuple[Block, ...]
    right_to_left: bool = False


def line(*parts: str | Span) -> Line:
    """A line from plain strings and spans."""
    return tuple(p if isinstance(p, Span) else Span(p) for p in parts if p)


# --- Markdown ---

_MD_ALWAYS = re.compile(r"([\\`*_\[\]<>|~])")
_MD_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_MD_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+[.)])")


def escape_markdown(text: str) -> str:
    """Text that renders as written: Markdown's special characters are backslash-escaped.

    Line breaks become spaces, so free text can never start a heading, list or quote.
    """
    flat = re.sub(r"\s+", " ", text)
    flat = _MD_ALWAYS.sub(r"\\\1", flat)
    flat = _MD_ENTITY.sub(r"\\&", flat)
    match = _MD_LINE_START.match(flat)
    if match:
        marker = match.group(2)
        escaped = marker[:-1] + "\\" + marker[-1]
        flat = match.group(1) + escaped + flat[match.end() :]
    return flat


def _md_line(parts: Line) -> str:
    out = []
    for span in parts:
        text = escape_markdown(span.text)
        out.append(f"**{text}**" if span.strong and text else text)
    return "".join(out)


def to_markdown(doc: Document) -> str:
    """The document as CommonMark."""
    out = [f"# {escape_markdown(doc.title)}", ""]
    for block in doc.blocks:
        if isinstance(block, Heading):
            out += [f"{'#' * block.level} {escape_markdown(block.text)}", ""]
        elif isinstance(block, Paragraph):
            out += [_md_line(block.line), ""]
        elif isinstance(block, Items):
            for first, *rest in block.items:
                out.append(f"- {_md_line(first)}")
                out += [f"  - {_md_line(more)}" for more in rest]
            out.append("")
        else:
            quoted = [f"> {_md_line(text)}" for text in block.lines]
            out += ["\n>\n".join(quoted), ""]
    return "\n".join(out).rstrip("\n") + "\n"


# --- HTML ---

# Inline and print-ready: no external fonts, images or scripts; the printer's own paper size
# (A4 or Letter) with margins; nothing of fixed width.
_CSS = """
@page { margin: 16mm 14mm; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", Arial, sans-serif;
  font-size: 12pt; line-height: 1.45; color: #111; background: #fff; }
body { margin: 0 auto; padding: 1.5rem; max-width: 46rem; overflow-wrap: break-word; }
h1 { font-size: 1.6rem; margin: 0 0 .6rem; }
h2 { font-size: 1.2rem; margin: 1.4rem 0 .4rem; padding-bottom: .15rem;
  border-bottom: 1px solid #888; break-after: avoid; page-break-after: avoid; }
p { margin: .35rem 0; }
ul { margin: .3rem 0; padding-inline-start: 1.3rem; }
li { margin: .35rem 0; break-inside: avoid; page-break-inside: avoid; }
li ul { margin: .1rem 0; }
.notice { border: 2px solid #b00020; border-radius: 4px; padding: .5rem .9rem; margin: .6rem 0;
  break-inside: avoid; page-break-inside: avoid; }
@media print {
  html { font-size: 11pt; }
  body { max-width: none; padding: 0; }
  .notice { border-color: #000; }
}
""".strip()


def _html_line(parts: Line) -> str:
    out = []
    for span in parts:
        text = html.escape(span.text, quote=True)
        out.append(f"<strong>{text}</strong>" if span.strong else text)
    return "".join(out)


def to_html(doc: Document) -> str:
    """The document as one self-contained HTML file."""
    direction = ' dir="rtl"' if doc.right_to_left else ""
    body: list[str] = [f"<h1>{html.escape(doc.title)}</h1>"]
    for block in doc.blocks:
        if isinstance(block, Heading):
            level = min(max(block.level, 2), 6)
            body.append(f"<h{level}>{html.escape(block.text)}</h{level}>")
        elif isinstance(block, Paragraph):
            body.append(f"<p>{_html_line(block.line)}</p>")
        elif isinstance(block, Items):
            body.append("<ul>")
            for first, *rest in block.items:
                sub = "".join(f"<li>{_html_line(more)}</li>" for more in rest)
                body.append(
                    f"<li>{_html_line(first)}" + (f"<ul>{sub}</ul>" if sub else "") + "</li>"
                )
            body.append("</ul>")
        else:
            inner = "".join(f"<p>{_html_line(text)}</p>" for text in block.lines)
            body.append(f'<div class="notice" role="note">{inner}</div>')
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{html.escape(doc.lang)}"{direction}>\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(doc.title)}</title>\n"
        f"<style>\n{_CSS}\n</style>\n"
        "</head>\n"
        "<body>\n<main>\n" + "\n".join(body) + "\n</main>\n</body>\n</html>\n"
    )
