"""Reading and writing case YAML so that a person's comments and layout survive every command.

Loading is round-trip (ruamel.yaml): the document keeps its comments, key order and quoting. A
write never re-dumps the case from scratch; `sync` patches the loaded document until it equals
the new data, so `git diff` shows only what the command changed.

Before a document is built, its event stream is checked: aliases (which can expand without
bound), tags other than YAML's plain ones (which other loaders would turn into objects) and
impossible dates are refused with the line they are on.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

from casectl.models.base import is_user_key

MAX_CASE_BYTES = 2 * 1024 * 1024  # a case with years of records is tens of kB; 2 MB is not a case
# A case file nests about 7 levels deep. Building a tree recurses once per level, so
# `[[[[…` thousands deep would exhaust Python's stack (and takes minutes to scan).
MAX_DEPTH = 50
_PLAIN_TAGS = frozenset(
    {
        None,
        "!",
        "tag:yaml.org,2002:str",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:null",
        "tag:yaml.org,2002:timestamp",
        "tag:yaml.org,2002:map",
        "tag:yaml.org,2002:seq",
    }
)
# Characters a plain or `|` block scalar cannot carry through a write and a read: control
# characters, and line breaks other than \n (which YAML reads back as \n or a space). Text
# holding any is written in double quotes, where YAML escapes them.
_NEEDS_ESCAPES = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]"
)
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_NUMBERS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})
# Python refuses to turn more than 4300 digits into an int; no case value comes near this.
MAX_NUMBER_CHARS = 1000
_DATE_PART = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")


class YamlProblem(Exception):
    """The text is not a YAML document casectl will read; `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _yaml(indent: int = 2, block_seq_indent: int = 0) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long note onto two lines
    # One date object used twice (closed: and the status change) must not become &id001/*id001.
    yaml.representer.ignore_aliases = lambda *_: True
    yaml.indent(mapping=indent, sequence=indent + block_seq_indent, offset=block_seq_indent)
    return yaml


def check_size(size: int) -> None:
    """Refuse a file too large to be a case file, before anything reads or parses it."""
    if size > MAX_CASE_BYTES:
        raise YamlProblem(
            f"the file is {size // 1024} kB, larger than any case file "
            f"({MAX_CASE_BYTES // 1024} kB at most); is it the right file?"
        )


def decode(raw: bytes) -> str:
    """Bytes of a case file as text, refusing what is not plain UTF-8."""
    if not raw.strip():
        raise YamlProblem("the file is empty; a case file starts with `schema_version` and `id`")
    check_size(len(raw))
    if raw.startswith(b"\xef\xbb\xbf"):
        raise YamlProblem(
            "the file starts with a byte-order mark; save it as UTF-8 without BOM", line=1
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlProblem("the file is not UTF-8 text; save it as UTF-8", line=line) from None


def _scan(text: str) -> None:
    """Refuse aliases, foreign tags, impossible dates and deep nesting before anything is built.

    The events come from libyaml (C) when PyYAML has it, which is most of the speed of a write;
    if libyaml objects to the text at all, ruamel's own parser scans it again so that the error
    a person sees is always ruamel's, with its line.
    """
    yaml = YAML(typ="rt")
    try:
        import yaml as pyyaml  # type: ignore[import-untyped]

        fast_loader = pyyaml.CSafeLoader
    except (ImportError, AttributeError):
        fast_loader = None
    if fast_loader is not None:
        try:
            # Streamed, not listed: a large file never holds all its events at once.
            _check_events(pyyaml.parse(text, Loader=fast_loader), yaml)
        except pyyaml.YAMLError:
            pass  # fall through to ruamel below, for its message
        else:
            return
    try:
        _check_events(yaml.parse(io.StringIO(text)), yaml)
    except MarkedYAMLError as exc:
        raise _located(exc) from None
    except ReaderError as exc:
        raise _unreadable_character(exc, text) from None
    except YAMLError as exc:
        raise YamlProblem(f"not valid YAML: {_one_line(exc)}") from None


_STARTS = frozenset({"MappingStartEvent", "SequenceStartEvent"})
_ENDS = frozenset({"MappingEndEvent", "SequenceEndEvent"})


def _check_events(events: Iterable[Any], yaml: YAML) -> None:
    depth = 0
    for event in events:
        kind = type(event).__name__
        line = event.start_mark.line + 1 if event.start_mark else None
        if kind in _STARTS:
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlProblem(
                    f"lists and mappings nest more than {MAX_DEPTH} levels deep here; "
                    "a case file needs fewer than 10",
                    line,
                )
        elif kind in _ENDS:
            depth -= 1
        if kind == "AliasEvent" or getattr(event, "anchor", None) is not None:
            raise YamlProblem(
                "anchors and aliases (&name, *name) are not allowed in a case file; "
                "write the value out in full",
                line,
            )
        tag = getattr(event, "tag", None)
        if (
            (kind == "ScalarEvent" or kind in _STARTS)
            and tag is not None
            and str(tag) not in _PLAIN_TAGS
        ):
            raise YamlProblem(f"the tag {tag} is not allowed in a case file; remove it", line)
        if kind == "ScalarEvent" and not event.style:  # plain: None in ruamel, "" in libyaml
            # Judge a plain scalar by what YAML makes of it: text that merely looks like a
            # date (`2026-2-30` in a note) is text, and must not be refused.
            resolved = str(yaml.resolver.resolve(ScalarNode, event.value, tuple(event.implicit)))
            if resolved == _TIMESTAMP:
                _check_date(event.value, line)
            elif resolved in _NUMBERS:
                _check_number(event.value, resolved, line, yaml)


def _check_number(value: str, tag: str, line: int | None, yaml: YAML) -> None:
    """A plain scalar YAML reads as a number must be one ruamel can build (`-_` is not)."""
    if len(value) > MAX_NUMBER_CHARS:
        raise YamlProblem(
            f"a number {len(value)} characters long is not a case value; "
            "put quotes around it if it is text",
            line,
        )
    constructor = yaml.constructor
    build = (
        constructor.construct_yaml_int if tag.endswith("int") else constructor.construct_yaml_float
    )
    try:
        build(ScalarNode(tag, value))
    except (ArithmeticError, IndexError, ValueError):
        raise YamlProblem(
            f"{value} cannot be read as a number; put quotes around it if it is text", line
        ) from None


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def _unreadable_character(exc: ReaderError, text: str) -> YamlProblem:
    # ruamel's own message runs over two lines and names "<file>"; say it once, with the line.
    position = exc.position if isinstance(exc.position, int) else None
    line = text[:position].count("\n") + 1 if position is not None else None
    code = exc.character if isinstance(exc.character, int) else None
    what = f"the character U+{code:04X}" if code is not None else "a character"
    return YamlProblem(f"{what} is not allowed in YAML text; remove it", line)


def _check_date(value: str, line: int | None) -> None:
    """A plain scalar YAML reads as a timestamp must be a real date, with no time of day."""
    match = _DATE_PART.match(value)
    if match is None:  # the resolver and this pattern agree; this is only for the type checker
        return
    try:
        dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        raise YamlProblem(f"{value} is not a real date; use YYYY-MM-DD", line) from None
    if len(value) > match.end():
        raise YamlProblem(
            f"{value} is a date and time; case files hold dates only (YYYY-MM-DD); "
            "put quotes around it if it is text",
            line,
        )


def _located(exc: MarkedYAMLError) -> YamlProblem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    problem = (exc.problem or exc.context or "not valid YAML").strip()
    if "'\\t'" in problem or "\t" in problem:
        problem = "a tab is used for indentation; YAML indents with spaces"
    elif "duplicate key" in problem:
        # ruamel quotes both values; a message names the key, it does not copy case data.
        key = re.match(r'found duplicate key "(.*?)" with value', problem)
        name = key.group(1) if key else "a key"
        problem = f'the key "{name[:40]}" appears twice in the same mapping; keep one'
    elif exc.context and exc.problem:
        problem = f"not valid YAML: {exc.context}, {exc.problem}"
    else:
        problem = f"not valid YAML: {problem}"
    return YamlProblem(problem, line)


class Document:
    """A loaded case file: the round-trip tree plus how it was indented."""

    def __init__(
        self, tree: CommentedMap, indent: int, block_seq_indent: int, *, crlf: bool = False
    ) -> None:
        self.tree = tree
        self.indent = indent
        self.block_seq_indent = block_seq_indent
        self.crlf = crlf  # a file saved with Windows line endings keeps them

    def dumps(self) -> str:
        out = io.StringIO()
        _yaml(self.indent, self.block_seq_indent).dump(self.tree, out)
        text = out.getvalue()
        return text.replace("\n", "\r\n") if self.crlf else text

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """The 1-based line of the deepest part of `loc` that exists in the document."""
        node: Any = self.tree
        line: int | None = None
        for part in loc:
            try:
                if isinstance(node, CommentedMap) and part in node:
                    line = node.lc.key(part)[0] + 1
                    node = node[part]
                elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
                    line = node.lc.item(part)[0] + 1
                    node = node[part]
                else:
                    break
            except (KeyError, IndexError, TypeError, AttributeError):
                break
        return line


def _guess_indent(text: str) -> tuple[int, int]:
    """The mapping indent and the dash offset the file already uses (2 and 2 when unclear)."""
    indent: int | None = None
    offset: int | None = None
    lines = text.splitlines()
    for prev, line in itertools.pairwise(lines):
        stripped = prev.rstrip()
        if not stripped.endswith(":") or stripped.lstrip().startswith(("#", "- ")):
            continue
        base = len(prev) - len(prev.lstrip())
        inner = len(line) - len(line.lstrip())
        if not line.strip() or inner < base:
            continue
        if line.lstrip().startswith("- "):
            offset = inner - base if offset is None else offset
        elif inner > base and indent is None:
            indent = inner - base
        if indent is not None and offset is not None:
            break
    # With no evidence, indent list items under their key, as `create` writes them.
    indent = indent if indent in (2, 3, 4) else 2
    offset = offset if offset in (0, 2, 4) and offset <= indent else 2
    return indent, offset


# git's conflict markers at the start of a line (<<<<<<<, =======, >>>>>>>): never YAML.
CONFLICT_MARKER = re.compile(r"^(<{7}|={7}|>{7})(?: |\r?$)", re.M)


def check_conflict_markers(text: str) -> None:
    """Refuse a file a git merge left conflict markers in, naming the first one's line."""
    found = CONFLICT_MARKER.search(text)
    if found is not None:
        line = text.count("\n", 0, found.start()) + 1
        raise YamlProblem(
            f"git merge conflict at line {line}: keep one side, delete the markers, "
            "then `git add` and commit",
            line,
        )


def load(text: str) -> Document:
    """Parse a case file's text, refusing anything but one plain YAML mapping."""
    windows = text.count("\r\n")
    # The file's own line ending is the one most of its lines use: one line pasted in from a
    # Windows editor must not turn a whole LF file into CRLF on the next write, nor the reverse.
    crlf = windows > text.count("\n") - windows
    if windows:  # read as LF (ruamel would keep stray CRs in comments); written back as it was
        text = text.replace("\r\n", "\n")
    check_conflict_markers(text)
    _scan(text)
    indent, offset = _guess_indent(text)
    try:
        tree = _yaml(indent, offset).load(text)
    except MarkedYAMLError as exc:
        raise _located(exc) from None
    except (YAMLError, ValueError, IndexError, ArithmeticError) as exc:
        raise YamlProblem(f"not valid YAML: {_one_line(exc)}") from None
    if not isinstance(tree, CommentedMap):
        raise YamlProblem("a case file must be a mapping of keys to values, starting with `id:`", 1)
    return Document(tree, indent, offset, crlf=crlf)


def to_plain(node: Any) -> Any:
    """The round-trip tree as plain dicts, lists and scalars, for validation."""
    if isinstance(node, Mapping):
        return {str(k): to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    if isinstance(node, bool | dt.date):
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def to_yaml(value: Any) -> Any:
    """Plain data as round-trip nodes: block style, multi-line text as `|` blocks."""
    if isinstance(value, Mapping):
        out = CommentedMap()
        for k, v in value.items():
            out[k] = to_yaml(v)
        return out
    if isinstance(value, list | tuple):
        seq = CommentedSeq(to_yaml(v) for v in value)
        if seq and all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in seq):
            seq.fa.set_flow_style()  # instrument answers read best on one line: [1, 0, 2]
        return seq
    if isinstance(value, str) and _NEEDS_ESCAPES.search(value):
        return DoubleQuotedScalarString(value)
    if isinstance(value, str) and "\n" in value:
        return LiteralScalarString(value)
    return value


def _same(old: Any, new: Any) -> bool:
    """Equal in value and in kind, so `1` is not kept where `true` is meant, nor a string for a date."""
    if isinstance(new, bool) or isinstance(old, bool):
        return isinstance(new, bool) and isinstance(old, bool | int) and bool(old) is new
    if isinstance(new, dt.date) != isinstance(old, dt.date):
        return False
    if isinstance(new, str) != isinstance(old, str):
        return False
    return bool(old == new)


def sync(doc: CommentedMap, new: Mapping[str, Any], order: Sequence[str] = ()) -> None:
    """Change `doc` in place until it equals `new`, keeping what is unchanged as it was.

    Keys of the user's own (`x-…`) are left alone. A key the document lacks goes where `order`
    places it, so sections stay in the process order even in a hand-written file.
    """
    for key in list(doc.keys()):
        if not is_user_key(key) and key not in new:
            del doc[key]
    for key, value in new.items():
        if key in doc:
            doc[key] = _sync_value(doc[key], value)
        else:
            doc.insert(_position(doc, key, order), key, to_yaml(value))


def _position(doc: CommentedMap, key: str, order: Sequence[str]) -> int:
    if key not in order:
        return len(doc)
    keys = list(doc.keys())
    for earlier in reversed(order[: order.index(key)]):
        if earlier in doc:
            return keys.index(earlier) + 1
    return 0


def _sync_value(old: Any, new: Any) -> Any:
    if isinstance(old, CommentedMap) and isinstance(new, Mapping):
        sync(old, new, order=list(new.keys()))
        return old
    if isinstance(old, CommentedSeq) and isinstance(new, list):
        for i, item in enumerate(new[: len(old)]):
            old[i] = _sync_value(old[i], item)
        del old[len(new) :]
        if len(new) > len(old):
            if not old:
                old.fa.set_block_style()
            old.extend(to_yaml(v) for v in new[len(old) :])
        return old
    return old if _same(old, new) else to_yaml(new)
