"""Characters that must never reach a terminal from case data, and how to show them safely.

A name or a note holding an escape sequence could rewrite the screen, set the terminal's
title, write to the clipboard (OSC 52) or hide text; bidirectional overrides make text read
differently from what it holds (the "Trojan Source" characters, CVE-2021-42574). casectl
refuses them in every field of a case (casectl.models.base) and escapes any it meets on the
way to a terminal (`printable`).

Refused everywhere: C0 controls (U+0000–U+001F) other than tab and line feed, DEL (U+007F),
C1 controls (U+0080–U+009F), the bidi embeddings and overrides U+202A–U+202E and the bidi
isolates U+2066–U+2069. Tab and line feed are refused in names, ids and other one-line
fields and allowed in free text (notes, summaries, reasons, addresses), where a pasted
paragraph legitimately has them. A carriage return is refused everywhere: a lone one rewinds
the line on a terminal (line endings in the file itself are the YAML reader's business).
"""

from __future__ import annotations

import re

# Everything below is refused in any field; `_ONE_LINE` adds tab and line feed.
_CONTROL = "\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
UNSAFE = re.compile(f"[{_CONTROL}]")
UNSAFE_ONE_LINE = re.compile(f"[{_CONTROL}\t\n]")

# What `printable` escapes: the refused characters, keeping line feed and tab (which tables
# and plain lines show as what they are).
_NAMES = {
    "\x1b": "ESC",
    "\x07": "BEL",
    "\x08": "backspace",
    "\r": "carriage return",
    "\x00": "NUL",
    "\x7f": "DEL",
    "\x9b": "CSI",
    "\x9d": "OSC",
    "\t": "tab",
    "\n": "line break",
}


def describe(char: str) -> str:
    """`U+001B (ESC)`: a character named for a message, never printed as itself."""
    name = _NAMES.get(char)
    if name is None and "\u202a" <= char <= "\u2069":
        name = "bidi control"
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


def unsafe_char(text: str, *, one_line: bool) -> str | None:
    """The first character of `text` that a field may not hold, or None."""
    found = (UNSAFE_ONE_LINE if one_line else UNSAFE).search(text)
    return found.group() if found else None


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    r"""`text` with every refused character shown as an escape (`\x1b`, `\u202e`): what any
    line bound for a terminal goes through. Tab and line feed are kept."""
    return UNSAFE.sub(_escape, text) if UNSAFE.search(text) else text


# --- spreadsheets ---

# A cell a spreadsheet program may take for a formula (OWASP, "CSV Injection"): it starts with
# one of these. `--format csv` writes such a text cell with a single quote in front, which
# spreadsheets show as text and hide; `import --format csv` takes the quote off again.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NEUTRALISED = re.compile("'*[=+\\-@\t\r]")  # .match: at the start


def spreadsheet_safe(cell: str) -> str:
    """A text cell for a spreadsheet: one that starts with = + - @ tab or CR (after any
    quotes already there) gets a single quote in front, so it is never evaluated."""
    return "'" + cell if _NEUTRALISED.match(cell) else cell


def from_spreadsheet(cell: str) -> str:
    """The text a `spreadsheet_safe` cell stands for: its one added quote taken off. Exact for
    every cell casectl wrote (a cell that already began with quotes got one more)."""
    return cell[1:] if cell[:1] == "'" and _NEUTRALISED.match(cell, 1) else cell
