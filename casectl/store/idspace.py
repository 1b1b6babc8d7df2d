"""The record ids of a case (g1, i1, r1, a1 …) and the fields that refer to them, from the models.

A record list whose items have an `id` field makes a kind of id: `Goal` items make goal ids,
`Referral` items referral ids. A field refers to a kind when its name is the kind's name in
snake case (an intervention's `goal`, a referral update's `referral`, an appointment update's
`appointment`, an intervention update's `intervention`), or when `REFERENCES` names it. Both
are found by walking the Case model, so a new record list with ids, or a new reference field
named after its kind, needs no change here; a reference named otherwise is one line in
`REFERENCES`.

Family and care-team ids are handles people choose (`mother`, `pcp`) and many fields name them;
they are never renamed: the same handle added on both sides for different people is a conflict.

`make_room` is what the merge uses: ids added on both sides of a merge for different records
are renamed on one side (every place the id is defined and every reference to it), so the
merged case keeps both records, each reference still pointing at its own.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel

from casectl.models.case import Case
from casectl.models.people import CareTeamMember, FamilyMember

# Kinds of id that people choose and that are never renamed.
CHOSEN_BY_PEOPLE: tuple[type[BaseModel], ...] = (FamilyMember, CareTeamMember)
# References whose field name is not the snake-case name of their kind:
# (model holding the field, field name) -> the model whose id it names. One line per field.
REFERENCES: dict[tuple[str, str], str] = {}

Path = tuple[str, ...]  # keys from the case down; "*" for every item of a list


@dataclass(frozen=True)
class Renamed:
    """An id given way in a merge: on `side`, the `kind` record `old` is now `new`."""

    kind: str
    old: str
    new: str
    side: str

    def __str__(self) -> str:
        return f"{self.kind} {self.old} is now {self.new}"


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _models_in(annotation: Any) -> Iterator[tuple[type[BaseModel], bool]]:
    """The models an annotation holds, each with whether it is a list of them."""
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation, False
    elif origin is list:
        for arg in typing.get_args(annotation):
            for model, _ in _models_in(arg):
                yield model, True
    elif origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            yield from _models_in(arg)


def _fields(model: type[BaseModel]) -> Iterator[tuple[str, str, Any]]:
    """(name in the file, Python name, annotation) of each field."""
    for name, info in model.model_fields.items():
        yield info.alias or name, name, info.annotation


@dataclass(frozen=True)
class IdSpace:
    """Where each kind of id is defined and where it is referred to, in a case file."""

    defined: dict[str, tuple[Path, ...]]  # kind -> paths to the records holding its `id`
    referred: dict[str, tuple[Path, ...]]  # kind -> paths to the reference fields
    renamable: frozenset[str]


@cache
def id_space(model: type[BaseModel] = Case) -> IdSpace:
    """The id kinds and reference fields of the case model, found by walking it."""
    records: dict[str, list[Path]] = {}
    fields: list[tuple[str, str, Path]] = []  # (model name, field name, path)
    people = {m.__name__ for m in CHOSEN_BY_PEOPLE}

    def walk(current: type[BaseModel], path: Path, seen: frozenset[type[BaseModel]]) -> None:
        for key, name, annotation in _fields(current):
            fields.append((current.__name__, name, (*path, key)))
            for inner, is_list in _models_in(annotation):
                if inner in seen:
                    continue
                below = (*path, key, "*") if is_list else (*path, key)
                if is_list and "id" in inner.model_fields:
                    records.setdefault(inner.__name__, []).append(below)
                walk(inner, below, seen | {inner})

    walk(model, (), frozenset({model}))
    kinds = {_snake(name): name for name in records}
    referred: dict[str, list[Path]] = {}
    for owner, name, path in fields:
        target = REFERENCES.get((owner, name)) or kinds.get(name)
        if target is not None and name != "id":
            referred.setdefault(_snake(target), []).append(path)
    return IdSpace(
        defined={_snake(k): tuple(v) for k, v in records.items()},
        referred={k: tuple(v) for k, v in referred.items()},
        renamable=frozenset(_snake(k) for k in records if k not in people),
    )


def _at(tree: Any, path: Path) -> Iterator[tuple[Any, str]]:
    """(container, key) for every place `path` reaches in a plain or round-trip tree."""
    if not path:
        return
    head, rest = path[0], path[1:]
    if head == "*":
        if isinstance(tree, list):
            for item in tree:
                yield from _at(item, rest)
        return
    if not isinstance(tree, dict) or head not in tree:
        return
    if not rest:
        yield tree, head
    else:
        yield from _at(tree[head], rest)


def defined_ids(tree: Any, kind: str, space: IdSpace | None = None) -> dict[str, Any]:
    """Each id of this kind in the tree, with its first record."""
    space = space or id_space()
    found: dict[str, Any] = {}
    for path in space.defined.get(kind, ()):
        for container, key in _at(tree, (*path, "id")):
            value = container[key]
            if isinstance(value, str):
                found.setdefault(value, container)
    return found


def rename(tree: Any, kind: str, old: str, new: str, space: IdSpace | None = None) -> None:
    """Rename one id of this kind everywhere in the tree: its records and every reference."""
    space = space or id_space()
    paths = [(*p, "id") for p in space.defined.get(kind, ())] + list(space.referred.get(kind, ()))
    for path in paths:
        for container, key in _at(tree, path):
            if container[key] == old:
                container[key] = new


def fresh_id(old: str, used: set[str]) -> str:
    """The next free id in the style of `old`: g3 -> g4 (or g5 …), else old-2, old-3 …"""
    match = re.fullmatch(r"(.*?)(\d+)", old)
    stem, n = (match.group(1), int(match.group(2))) if match else (f"{old}-", 1)
    while f"{stem}{n}" in used:
        n += 1
    return f"{stem}{n}"


def make_room(base: Any, giving: Any, keeping: Any, *, side: str) -> list[Renamed]:
    """Rename, in `giving`, ids that it and `keeping` both added for different records."""
    from casectl.store.merge import _Merger  # the one canonical form of a record

    canon = _Merger().canon
    space = id_space()
    renamed: list[Renamed] = []
    for kind in sorted(space.renamable):
        in_base = defined_ids(base, kind, space)
        mine = defined_ids(giving, kind, space)
        other = defined_ids(keeping, kind, space)
        used = set(in_base) | set(mine) | set(other)
        for old in sorted(set(mine) & set(other) - set(in_base)):
            if canon(mine[old]) == canon(other[old]):
                continue  # the same record added on both sides: one id, one record
            new = fresh_id(old, used)
            used.add(new)
            rename(giving, kind, old, new, space)
            renamed.append(Renamed(kind, old, new, side))
    return renamed
