"""Reading a case file fast: libyaml composes it, YAML 1.2 rules resolve it, the same gate checks it.

A round-trip ruamel.yaml parse (the store's reader, which keeps comments for writing) costs
milliseconds per case; the summary index, `check` and `show` only need the validated case.
libyaml composes the document, scalars are resolved by YAML 1.2 rules exactly as ruamel.yaml
resolves them, and the plain data goes through the same `validate_case`. Anything unusual
(anchors, tags, directives, an error of any kind) is handed to the store's own reader, which
gives the same result or the located error.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from casectl.models.case import Case
    from casectl.store.store import CaseStore

CASE_SUFFIX = ".yaml"  # casectl.store.paths.CASE_SUFFIX
MAX_CASE_BYTES = 2 * 1024 * 1024  # casectl.store.yamlio.MAX_CASE_BYTES
# A case nests about 7 levels deep and holds no long numbers; anything beyond these is left
# to the store's reader, which has its own limits and says what is wrong.
MAX_DEPTH = 12
MAX_NUMBER_CHARS = 40


class _NotFast(Exception):
    """The fast reader leaves this file to the store's reader."""


_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_DATE = "tag:yaml.org,2002:timestamp"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
# ruamel.yaml's YAML 1.2 implicit resolvers (ruamel/yaml/resolver.py), copied so that a plain
# scalar means the same here as in the store. tests/test_index.py checks them against ruamel.
_BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_FLOAT_RE = re.compile(
    r"""^(?:
     [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_INT_RE = re.compile(
    r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0o?[0-7_]+
    |[-+]?[0-9_]+
    |[-+]?0x[0-9a-fA-F_]+)$""",
    re.X,
)
_DATE_RE = re.compile(r"^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]$")
_DATETIME_RE = re.compile(
    r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
    (?:[Tt]|[ \t]+)[0-9][0-9]?
    :[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
    (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
    re.X,
)
# yamlio._scan refuses a plain scalar shaped like a date that is not a real one.
_DATE_LIKE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_PLAIN_TAGS = frozenset(
    {"!", _STR, _INT, _FLOAT, _BOOL, _NULL, _DATE, _MAP, _SEQ}
)  # yamlio._PLAIN_TAGS


_PLAIN = "plain"  # what the composer tags an untagged plain scalar; _plain() resolves it


# The first characters a plain scalar must have to be anything but text (ruamel's resolvers
# are keyed the same way); text starting with anything else is text, with no more checks.
_NOT_TEXT = frozenset("~nNtTfF-+.0123456789<=!&*") | {""}


def _plain(value: str) -> Any:
    """An untagged plain scalar's value under ruamel.yaml's YAML 1.2 rules; _NotFast if unsure."""
    first = value[:1]
    if first not in _NOT_TEXT:
        return value
    if first in ("", "~", "n", "N"):
        return None if value in _NULLS else value
    if first in ("t", "T", "f", "F"):
        return (first in "tT") if _BOOL_RE.match(value) else value
    if first in "-+.0123456789":
        try:
            if _FLOAT_RE.match(value):
                if len(value) > MAX_NUMBER_CHARS:
                    raise _NotFast
                return _float(value)
            if first != "." and _INT_RE.match(value):
                if len(value) > MAX_NUMBER_CHARS:
                    raise _NotFast
                return _int(value)
            if _DATE_RE.match(value):
                return dt.date.fromisoformat(value)
        except ValueError:
            raise _NotFast from None  # an impossible date: the store names its line
        if _DATETIME_RE.match(value):
            raise _NotFast  # a time of day: the store decides what it means
        match = _DATE_LIKE.match(value)
        if match:
            try:
                dt.date(*(int(g) for g in match.groups()))
            except ValueError:
                raise _NotFast from None
        return value
    if value in ("<<", "=", "!", "&", "*"):
        raise _NotFast  # merge keys and the like
    return value


def _int(value: str) -> int:
    text = value.replace("_", "")
    sign = -1 if text[0] == "-" else 1
    if text[0] in "+-":
        text = text[1:]
    for prefix, base in (("0b", 2), ("0x", 16), ("0o", 8)):
        if text.startswith(prefix):
            return sign * int(text[2:], base)
    return sign * int(text)  # YAML 1.2: a leading zero is not octal


def _float(value: str) -> float:
    text = value.replace("_", "").lower()
    if "inf" in text or "nan" in text:
        raise _NotFast  # no case value is infinite or not a number: the store decides
    return float(text)


def _tagged(tag: str, value: str) -> Any:
    """A scalar with an explicit plain tag (`!!int 3`), as ruamel constructs it."""
    try:
        if tag == _INT:
            return _int(value)
        if tag == _FLOAT:
            return _float(value)
        if tag == _BOOL and _BOOL_RE.match(value):
            return value[0] in "tT"
        if tag == _NULL and value in _NULLS:
            return None
        if tag == _DATE and _DATE_RE.match(value):
            return dt.date.fromisoformat(value)
    except (ValueError, IndexError):
        pass
    raise _NotFast


_composer: list[Any] = []


def _composer_class() -> Any:
    """A libyaml composer that leaves plain scalars for _plain(); None without libyaml."""
    if _composer:
        return _composer[0]
    try:
        from yaml._yaml import CParser  # type: ignore[import-untyped]
        from yaml.nodes import ScalarNode, SequenceNode  # type: ignore[import-untyped]
    except ImportError:
        _composer.append(None)
        return None

    class Composer(CParser):  # type: ignore[misc]
        def descend_resolver(self, parent: Any, index: Any) -> None:
            pass

        def ascend_resolver(self) -> None:
            pass

        def resolve(self, kind: Any, value: str, implicit: tuple[bool, bool]) -> str:
            if kind is ScalarNode:
                return _PLAIN if implicit[0] else _STR
            return _SEQ if kind is SequenceNode else _MAP

    _composer.append(Composer)
    return Composer


def _build(node: Any, depth: int = 1) -> Any:
    """Plain data from a composed node, as yamlio.to_plain gives it from ruamel's tree."""
    tag = node.tag
    if tag is _PLAIN:
        return _plain(node.value)
    if depth > MAX_DEPTH:
        raise _NotFast  # deeper than any case: the store judges it
    if tag is _MAP or tag == _MAP:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_tag = key_node.tag
            if key_tag is _PLAIN:
                key = key_node.value
                if key[:1] in _NOT_TEXT:
                    key = str(_plain(key))
            elif key_tag == _STR:
                key = key_node.value
            else:
                raise _NotFast  # a complex or tagged key
            if key in out:
                raise _NotFast  # a duplicate key: the store reports it with its line
            # Scalars inline: most nodes are, and a call per node is the cost here.
            value_tag = value_node.tag
            if value_tag is _PLAIN:
                text = value_node.value
                out[key] = _plain(text) if text[:1] in _NOT_TEXT else text
            elif value_tag is _STR:
                out[key] = value_node.value
            else:
                out[key] = _build(value_node, depth + 1)
        return out
    if tag is _SEQ or tag == _SEQ:
        return [_build(item, depth + 1) for item in node.value]
    if tag == _STR:
        return node.value
    if isinstance(node.value, str):
        return _tagged(tag, node.value)
    raise _NotFast


def _has_anchors_or_tags(raw: bytes) -> bool:
    import yaml  # type: ignore[import-untyped]

    loader = yaml.CSafeLoader(raw)
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                return True
            tag = getattr(event, "tag", None)
            if tag is not None and tag not in _PLAIN_TAGS:
                return True
        return False
    finally:
        loader.dispose()


def fast_plain(raw: bytes) -> dict[str, Any]:
    """The plain data of a case file's bytes, as the store would read it; _NotFast if unsure."""
    composer = _composer_class()
    if composer is None:
        raise _NotFast
    # What yamlio.decode refuses: an empty file, a huge one, a BOM, bytes that are not UTF-8.
    if not raw.strip() or len(raw) > MAX_CASE_BYTES or raw.startswith(b"\xef\xbb\xbf"):
        raise _NotFast
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _NotFast from None
    if raw.startswith(b"%") or b"\n%" in raw or b"<<" in raw:
        raise _NotFast  # directives and merge keys
    if (b"&" in raw or b"*" in raw or b"!" in raw) and _has_anchors_or_tags_safe(raw):
        raise _NotFast
    loader = composer(raw)
    try:
        node = loader.get_single_node()
    except Exception:
        raise _NotFast from None
    finally:
        loader.dispose()
    if node is None or node.tag != _MAP:
        raise _NotFast
    data: dict[str, Any] = _build(node)
    return data


def _has_anchors_or_tags_safe(raw: bytes) -> bool:
    try:
        return _has_anchors_or_tags(raw)
    except Exception:
        return True


def read_case(store: CaseStore, path: Path) -> Case:
    """Read and validate one case file: fast when it can be, else through `store.read`.

    Either way the case has passed `validate_case` on the store's today, and its id matches
    the file name; an invalid file raises InvalidCaseFile from the store's reader.
    """
    return case_from_bytes(store, path, store.read_bytes(path))


def read_case_and_data(store: CaseStore, path: Path) -> tuple[Case, dict[str, Any]]:
    """The validated case and the file's plain data, keys of the user's own (`x-…`) included;
    fast when it can be, else through the store's reader (`case_from_bytes`, keeping the data)."""
    from casectl.models.validation import CaseInvalid, validate_case
    from casectl.store import yamlio

    raw = store.read_bytes(path)
    try:
        data = fast_plain(raw)
        version = data.get("schema_version")
        if type(version) is int and version == store.schema.version:
            case = validate_case(data, today=store.today, model=store.schema.model)
            if case.id == path.name[: -len(CASE_SUFFIX)]:
                return case, data
    except (_NotFast, CaseInvalid):
        pass
    loaded = store.parse(path, raw)
    plain = yamlio.to_plain(loaded.doc.tree)
    return loaded.case, plain if isinstance(plain, dict) else {}


def case_from_bytes(store: CaseStore, path: Path, raw: bytes) -> Case:
    """Validate a case file's bytes with the fast reader, falling back to `store.parse`."""
    from casectl.models.validation import CaseInvalid, validate_case

    schema = store.schema
    try:
        data = fast_plain(raw)
        # Files of another schema are migrated (or refused) by the store as it reads them.
        version = data.get("schema_version")
        if type(version) is not int or version != schema.version:
            raise _NotFast
        case = validate_case(data, today=store.today, model=schema.model)
    except (_NotFast, CaseInvalid):
        return store.parse(path, raw).case
    if case.id != path.name[: -len(CASE_SUFFIX)]:
        return store.parse(path, raw).case
    return case
