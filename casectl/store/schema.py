"""Schema migrations: bringing a case file written for an older schema up to this casectl's.

Every case file says which schema it was written for (`schema_version`; a file without one is
schema 1, the first). A migration takes the YAML document of version N to N + 1 in place, on the
round-trip tree, so the user's comments, `x-` keys and layout survive it.

The store applies pending migrations whenever it reads a file, in memory only: reading never
writes. The next write of that case saves them with the rest of the change; `casectl migrate`
(casectl.store.migration) saves them for a whole folder at once and says what changed in each file. A file written for a
newer schema than this casectl knows is refused and never written.

Schema 1 is the first, so the registry is empty. To change the schema: raise SCHEMA_VERSION in
casectl/models/case.py, change the models, and append `Migration(source=N, apply=...)` here;
tests/test_migrate.py shows a whole version 1 → 2 change with a test-only registry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap

from casectl.errors import shown
from casectl.models.case import SCHEMA_VERSION, Case

VERSION_KEY = "schema_version"


@dataclass(frozen=True)
class Migration:
    """Version `source` to `source + 1`: `apply` changes the document in place and returns a
    short phrase for each thing it changed (nothing when the file needed no change)."""

    source: int
    apply: Callable[[CommentedMap], list[str]]


@dataclass(frozen=True)
class Schema:
    """What a casectl reads and writes: its schema version, the migrations that lead up to it
    (one per version, from 1), and the model its cases validate against."""

    version: int
    migrations: Sequence[Migration] = ()
    model: type[Case] = Case

    def __post_init__(self) -> None:
        sources = [m.source for m in self.migrations]
        if sources != list(range(1, self.version)):
            raise ValueError(
                f"schema {self.version} needs one migration from each of versions "
                f"1 to {self.version - 1}, in order; got {sources}"
            )


# version N -> N + 1, in order. Schema 1 is the first, so there is nothing here yet.
MIGRATIONS: tuple[Migration, ...] = ()
CURRENT = Schema(SCHEMA_VERSION, MIGRATIONS, Case)


def current() -> Schema:
    """The schema this casectl reads and writes (tests put a future one in its place)."""
    return CURRENT


class SchemaVersionError(Exception):
    """The file's schema_version cannot be read or is newer than this casectl knows."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Upgrade:
    """What reading a file did to bring it to the current schema (in memory until written)."""

    source: int | None  # the version on disk; None when the file had no schema_version
    target: int
    changes: list[str] = field(default_factory=list)

    @property
    def pending(self) -> bool:
        """True when the document differs from the file: the next write will save it."""
        return self.source != self.target

    def describe(self) -> str:
        """`1 → 2: renamed coordination to implementation`."""
        source = "none" if self.source is None else str(self.source)
        what = "; ".join(self.changes) or f"only {VERSION_KEY} changed"
        return f"{source} → {self.target}: {what}"


def upgrade(tree: CommentedMap, schema: Schema) -> Upgrade:
    """Bring the document `tree` up to `schema` in place and say what changed."""
    raw = tree.get(VERSION_KEY)
    if VERSION_KEY not in tree:
        source: int | None = None
        version = 1
    elif isinstance(raw, int) and not isinstance(raw, bool):
        source = version = int(raw)
    else:
        given = str(raw).lower() if isinstance(raw, bool) else shown(_plain(raw))
        raise SchemaVersionError(f"must be a whole number such as {schema.version}, not {given}")
    if version < 1:
        raise SchemaVersionError(f"{version} is not a schema casectl has used; the first is 1")
    if version > schema.version:
        raise SchemaVersionError(
            f"this file was written for schema {version} by a newer casectl (this one knows "
            f"schema {schema.version} at most); upgrade casectl to read it (the file was not changed)"
        )
    found = Upgrade(source, schema.version)
    if source is None:
        tree.insert(0, VERSION_KEY, 1)
        found.changes.append(f"added {VERSION_KEY}: 1")
    for migration in schema.migrations[version - 1 :]:
        found.changes.extend(migration.apply(tree))
        tree[VERSION_KEY] = migration.source + 1
    return found


def key_order(model: type[Any]) -> list[str]:
    """The top-level keys of a case file of `model`, in the order they are written."""
    return [info.alias or name for name, info in model.model_fields.items()]


def _plain(value: Any) -> Any:
    for kind in (str, float, int):
        if isinstance(value, kind):
            return kind(value)
    return value


# --- helpers for writing migrations: each keeps the comments around what it touches ---


def rename_key(node: CommentedMap, old: str, new: str) -> bool:
    """Rename a key where it stands, keeping its value and comments; False if there is none."""
    if old not in node or new in node:
        return False
    position = list(node.keys()).index(old)
    value = node[old]
    comment = node.ca.items.pop(old, None)
    del node[old]
    node.insert(position, new, value)
    if comment is not None:
        node.ca.items[new] = comment
    return True
