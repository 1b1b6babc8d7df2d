"""Merging a case file three ways, record by record: what `casectl merge-file` does for git.

Two case managers who both append a follow-up to the same case have not disagreed about
anything, but git's line merge sees two edits at the end of the same list and writes conflict
markers. This module merges the YAML documents instead (the round-trip trees, so comments and
layout of everything untouched are kept):

- a value changed on one side only takes that side; the same value changed to the same thing on
  both sides is taken once;
- in a list of mappings (any of them: screening, care plans and the goals inside them, follow-ups,
  status history, family, and whatever a later schema adds) records are matched to the base by
  their `id` when they have one, else by content; records added on either side are all kept, in
  date order after the record they followed; a record added identically on both sides once;
- ids handed out on both sides for different records (goal g3 here and another g3 there) are
  renamed on the side that has not been shared yet, with every reference to them (found from the
  models: see `casectl.store.idspace`);
- the same field changed differently on both sides is a true conflict: the result carries git's
  <<<<<<< / ======= / >>>>>>> lines around that field's lines only, and the merge says so.

A merge that is clean is validated as a whole case before it is accepted; one that would not be
valid (both sides closed the same referral, one as completed, one as declined) is a conflict on
the section at fault.
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from casectl.models.validation import CaseInvalid, format_loc, validate_case
from casectl.store import idspace, yamlio
from casectl.store import schema as migrate

MARKER_OURS = "<<<<<<< ours"
MARKER_SPLIT = "======="
MARKER_THEIRS = ">>>>>>> theirs"
CONFLICT_MARKER = yamlio.CONFLICT_MARKER
_TOKEN = "casectl-merge-conflict-{}-e5a1"
_TOKEN_RE = re.compile(r"casectl-merge-conflict-(\d+)-e5a1")


class _Missing:
    """A key or record absent on one side (deleted there, or never there)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass
class Conflict:
    """Two sides changed the same thing differently; `where` names it as `check` would."""

    where: str
    ours: Any
    theirs: Any
    item: bool = False  # a list item (rendered `- …`) rather than a `key: value`
    line: int | None = None  # in the rendered file, once rendered
    reason: str = "changed differently on both sides"


@dataclass
class MergeResult:
    text: str
    conflicts: list[Conflict] = field(default_factory=list)
    renamed: list[idspace.Renamed] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.conflicts


class _Merger:
    """One three-way merge of plain-or-round-trip trees; conflicts are collected, not raised."""

    def __init__(self) -> None:
        self.conflicts: list[Conflict] = []
        self._canon: dict[int, str] = {}

    def canon(self, node: Any) -> str:
        if node is MISSING:
            return "\0missing"
        key = id(node)
        found = self._canon.get(key)
        if found is None:
            found = json.dumps(
                yamlio.to_plain(node), sort_keys=True, default=str, ensure_ascii=False
            )
            if isinstance(node, CommentedMap | CommentedSeq):
                self._canon[key] = found  # scalars' ids are reused; containers live on
        return found

    def conflict(self, loc: tuple[Any, ...], ours: Any, theirs: Any, *, item: bool) -> str:
        self.conflicts.append(Conflict(format_loc(loc), ours, theirs, item=item))
        return _TOKEN.format(len(self.conflicts) - 1)

    def node(self, base: Any, ours: Any, theirs: Any, loc: tuple[Any, ...], *, item: bool) -> Any:
        """The merge of one value; MISSING when both sides agree it is gone."""
        c_ours, c_theirs = self.canon(ours), self.canon(theirs)
        if c_ours == c_theirs:
            return ours
        c_base = self.canon(base)
        if c_base == c_ours:
            return theirs
        if c_base == c_theirs:
            return ours
        if isinstance(ours, CommentedMap) and isinstance(theirs, CommentedMap):
            return self.mapping(base if isinstance(base, CommentedMap) else {}, ours, theirs, loc)
        if isinstance(ours, CommentedSeq) and isinstance(theirs, CommentedSeq):
            old = base if isinstance(base, CommentedSeq) else []
            if any(isinstance(x, CommentedMap) for part in (old, ours, theirs) for x in part):
                return self.records(old, ours, theirs, loc)
            merged = self.appended(old, ours, theirs)
            if merged is not None:
                return merged
        return self.conflict(loc, ours, theirs, item=item)

    def mapping(
        self, base: Any, ours: CommentedMap, theirs: CommentedMap, loc: tuple[Any, ...]
    ) -> CommentedMap:
        """Key by key, into `ours` (its comments and order stay); keys new in theirs go after
        the key they follow there."""
        for key in list(ours.keys()):
            merged = self.node(
                base.get(key, MISSING), ours[key], theirs.get(key, MISSING), (*loc, key), item=False
            )
            if merged is MISSING:
                del ours[key]
            else:
                ours[key] = merged
        previous: Any = None
        for key in theirs:
            if key not in ours:
                merged = self.node(
                    base.get(key, MISSING), MISSING, theirs[key], (*loc, key), item=False
                )
                if merged is not MISSING:
                    keys = list(ours.keys())
                    at = keys.index(previous) + 1 if previous in ours else len(keys)
                    ours.insert(at, key, merged)
            if key in ours:
                previous = key
        return ours

    def appended(self, base: Sequence[Any], ours: CommentedSeq, theirs: CommentedSeq) -> Any:
        """Plain lists (barriers, agreed_by): both sides only appended, so keep both additions."""
        n = len(base)
        canon_base = [self.canon(x) for x in base]
        if [self.canon(x) for x in ours[:n]] != canon_base:
            return None
        if [self.canon(x) for x in theirs[:n]] != canon_base:
            return None
        have = {self.canon(x) for x in ours}
        for extra in theirs[n:]:
            if self.canon(extra) not in have:
                ours.append(extra)
                have.add(self.canon(extra))
        return ours

    def records(
        self, base: Sequence[Any], ours: CommentedSeq, theirs: CommentedSeq, loc: tuple[Any, ...]
    ) -> CommentedSeq:
        """A list of records: matched to the base, merged one by one; additions from both sides
        kept, in date order, after the record they followed."""
        by_id = all(
            isinstance(x, CommentedMap) and isinstance(x.get("id"), str)
            for part in (base, ours, theirs)
            for x in part
        )
        align = self._align_by_id if by_id else self._align_by_content
        o_match, o_new = align(base, ours)
        t_match, t_new = align(base, theirs)
        out: list[Any] = []

        def add_new(anchor: int) -> None:
            mine, other = o_new.get(anchor, []), t_new.get(anchor, [])
            if by_id:  # the same id added on both sides: one record, or a conflict
                ids = {x["id"]: x for x in mine}
                kept = []
                for x in other:
                    twin = ids.get(x["id"])
                    if twin is None:
                        kept.append(x)
                    elif self.canon(twin) != self.canon(x):
                        mine = [
                            self.conflict((*loc, len(out)), y, x, item=True) if y is twin else y
                            for y in mine
                        ]
                other = kept
            else:
                seen = {self.canon(x) for x in mine}
                other = [x for x in other if self.canon(x) not in seen]
            out.extend(_by_date(mine, other))

        add_new(-1)
        for i, old in enumerate(base):
            merged = self.node(
                old,
                ours[o_match[i]] if i in o_match else MISSING,
                theirs[t_match[i]] if i in t_match else MISSING,
                (*loc, len(out)),
                item=True,
            )
            if merged is not MISSING:
                out.append(merged)
            add_new(i)
        if len(out) >= len(ours) and all(a is b for a, b in zip(out, ours, strict=False)):
            ours.extend(out[len(ours) :])  # the usual case: only appended, comments untouched
        else:
            del ours[:]
            ours.extend(out)
        return ours

    def _align_by_id(
        self, base: Sequence[Any], side: Sequence[Any]
    ) -> tuple[dict[int, int], dict[int, list[Any]]]:
        where = {x["id"]: i for i, x in enumerate(base)}
        matched: dict[int, int] = {}
        new: dict[int, list[Any]] = {}
        anchor = -1
        for j, x in enumerate(side):
            i = where.get(x["id"])
            if i is None or i in matched:
                new.setdefault(anchor, []).append(x)
            else:
                matched[i] = j
                anchor = i
        return matched, new

    def _align_by_content(
        self, base: Sequence[Any], side: Sequence[Any]
    ) -> tuple[dict[int, int], dict[int, list[Any]]]:
        """Match records by content: equal runs first, then a changed record to the one at the
        same place in its run (a note edited in place is the same record)."""
        matcher = difflib.SequenceMatcher(
            None, [self.canon(x) for x in base], [self.canon(x) for x in side], autojunk=False
        )
        matched: dict[int, int] = {}
        new: dict[int, list[Any]] = {}
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            pairs = min(i2 - i1, j2 - j1) if op in ("equal", "replace") else 0
            for k in range(pairs):
                matched[i1 + k] = j1 + k
            anchor = i1 + pairs - 1
            for j in range(j1 + pairs, j2):
                new.setdefault(anchor, []).append(side[j])
        return matched, new


def _date_of(record: Any) -> str | None:
    value = record.get("date") if isinstance(record, CommentedMap) else None
    if isinstance(value, dt.date):
        return value.isoformat()
    return value if isinstance(value, str) else None


def _by_date(mine: list[Any], other: list[Any]) -> list[Any]:
    """Two runs of new records as one, by date (each run's order kept; ours first on a tie)."""
    out: list[Any] = []
    i = j = 0
    while i < len(mine) and j < len(other):
        a, b = _date_of(mine[i]), _date_of(other[j])
        if a is not None and b is not None and b < a:
            out.append(other[j])
            j += 1
        else:
            out.append(mine[i])
            i += 1
    return out + mine[i:] + other[j:]


# --- the whole case ---


def _document(text: str | None) -> yamlio.Document | None:
    if text is None or not text.strip():
        return None
    doc = yamlio.load(text)
    migrate.upgrade(doc.tree, migrate.current())  # in memory, so both sides speak one schema
    return doc


def merge_case(
    base_text: str | None,
    ours_text: str,
    theirs_text: str,
    *,
    today: dt.date,
    rename: str = "ours",
    validate: Callable[[Any], None] | None = None,
) -> MergeResult:
    """Merge three versions of a case file's text; the result, clean or with marked conflicts.

    `rename` is the side whose new ids give way when both sides used one: "ours" for a merge
    (our new records have not been shared yet), "theirs" for a rebase (where the sides swap).
    Raises yamlio.YamlProblem when a side is not a YAML mapping (git's line merge is then
    the fallback).
    """
    base = _document(base_text)
    ours = _document(ours_text)
    theirs = _document(theirs_text)
    if ours is None or theirs is None:
        raise yamlio.YamlProblem("one side of the merge is empty")
    base_tree: Any = base.tree if base is not None else CommentedMap()
    renamed = idspace.make_room(
        base_tree,
        ours.tree if rename == "ours" else theirs.tree,
        theirs.tree if rename == "ours" else ours.tree,
        side=rename,
    )
    merger = _Merger()
    merged = merger.mapping(base_tree, ours.tree, theirs.tree, ())
    if not merger.conflicts:
        problem = _invalid(merged, today, validate)
        if problem is not None:
            loc, message = problem
            # Both sides are valid alone; together they are not: the section at fault is a
            # conflict, its records from each side shown between the markers.
            ours_again = _document(ours_text)
            theirs_again = _document(theirs_text)
            assert ours_again is not None and theirs_again is not None
            section = loc[0] if loc else None
            if isinstance(section, str) and section in merged:
                token = merger.conflict(
                    (section,),
                    ours_again.tree.get(section, MISSING),
                    theirs_again.tree.get(section, MISSING),
                    item=False,
                )
                merger.conflicts[
                    -1
                ].reason = (
                    f"each side is valid, the two together are not ({format_loc(loc)}: {message})"
                )
                merged[section] = token
    text = _render(ours, merger.conflicts)
    return MergeResult(text, merger.conflicts, renamed)


def _invalid(
    tree: CommentedMap, today: dt.date, validate: Callable[[Any], None] | None
) -> tuple[tuple[Any, ...], str] | None:
    data = yamlio.to_plain(tree)
    try:
        if validate is not None:
            validate(data)
        else:
            validate_case(data, today=today, model=migrate.current().model)
    except CaseInvalid as exc:
        return exc.problems[0]
    return None


# --- writing conflicts the way git does, around one field ---


def _dump(value: Any, doc: yamlio.Document) -> list[str]:
    out = io.StringIO()
    yamlio._yaml(doc.indent, doc.block_seq_indent).dump(value, out)
    return out.getvalue().splitlines()


def _side_lines(value: Any, key: str | None, doc: yamlio.Document) -> list[str]:
    """One side of a conflict as the lines it would have in the file, unindented."""
    if value is MISSING:
        return []
    if key is not None:
        return _dump(CommentedMap([(key, value)]), doc)
    lines = _dump(CommentedMap([("x", CommentedSeq([value]))]), doc)[1:]
    shift = min((len(s) - len(s.lstrip()) for s in lines if s.strip()), default=0)
    return [s[shift:] for s in lines]


def _render(doc: yamlio.Document, conflicts: list[Conflict]) -> str:
    """The merged document as text, each conflict token replaced by marked lines."""
    text = doc.dumps()
    if not conflicts:
        return text
    newline = "\r\n" if doc.crlf else "\n"
    out: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        found = _TOKEN_RE.search(line)
        if found is None:
            out.append(line)
            continue
        conflict = conflicts[int(found.group(1))]
        head = line[: found.start()]
        key_match = re.match(r"^([ -]*)(.*?):\s*$", head)
        if conflict.item or key_match is None:
            prefix = head[: len(head) - len(head.lstrip(" "))]
            key = None
        else:
            prefix, key = key_match.group(1), key_match.group(2)
            key = yamlio.to_plain(_unquote(key))
        first = prefix
        rest = " " * len(prefix)

        def place(lines: list[str], first: str = first, rest: str = rest) -> list[str]:
            return [(first if n == 0 else rest) + s for n, s in enumerate(lines)]

        mine = place(_side_lines(conflict.ours, key, doc))
        other = place(_side_lines(conflict.theirs, key, doc))
        same_head = 0
        while same_head < min(len(mine), len(other)) and mine[same_head] == other[same_head]:
            same_head += 1
        same_tail = 0
        while (
            same_tail < min(len(mine), len(other)) - same_head
            and mine[-1 - same_tail] == other[-1 - same_tail]
        ):
            same_tail += 1
        out.extend(mine[:same_head])
        conflict.line = len(out) + 1
        out.append(MARKER_OURS)
        out.extend(mine[same_head : len(mine) - same_tail])
        out.append(MARKER_SPLIT)
        out.extend(other[same_head : len(other) - same_tail])
        out.append(MARKER_THEIRS)
        out.extend(mine[len(mine) - same_tail :])
    return newline.join(out)


def _unquote(key: str) -> str:
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "'\"":
        return key[1:-1]
    return key


def conflict_lines(text: str) -> list[int]:
    """The 1-based lines where a git conflict starts (`<<<<<<<`) in a file's text."""
    return [
        text.count("\n", 0, m.start()) + 1
        for m in CONFLICT_MARKER.finditer(text)
        if m.group(1).startswith("<")
    ]
