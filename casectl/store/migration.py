"""`casectl migrate`: saving pending schema migrations for a whole folder, file by file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from casectl.errors import CasectlError, InvalidCaseFile, Problem
from casectl.store.gitstate import refuse_if_busy
from casectl.store.lock import locked
from casectl.store.paths import CASE_SUFFIX
from casectl.store.schema import Upgrade
from casectl.store.store import CaseStore, dump_case, write_atomic


@dataclass
class Migrated:
    """One file `casectl migrate` changed (or, with --dry-run, would change)."""

    case_id: str
    path: Path
    upgrade: Upgrade

    def __str__(self) -> str:
        return f"{self.case_id}: {self.upgrade.describe()}"


def migrate_cases(
    store: CaseStore, case_ids: Sequence[str] | None = None, *, dry_run: bool = False
) -> tuple[list[Migrated], list[Problem]]:
    """Migrate the given cases (all when None), each under its lock and atomically.

    Returns the files changed (or that would be, with `dry_run`) and the problems of files left
    as they were: invalid, written for a newer schema, or locked by another writer.
    """
    store.require()
    ids = list(case_ids) if case_ids else store.case_ids()
    migrated: list[Migrated] = []
    problems: list[Problem] = []
    for case_id in ids:
        path = store.root / f"{case_id}{CASE_SUFFIX}"
        try:
            path = store.path_for(case_id)
            with locked(store.root, case_id):
                if not dry_run:
                    refuse_if_busy(store.root)
                loaded = store.load(case_id)
                found = loaded.upgrade
                if found is None or not found.pending:
                    continue
                if not dry_run:
                    text = loaded.doc.dumps()
                    # The text must read back, at the new version, as the case that was read.
                    again = store.parse(path, text.encode("utf-8"))
                    if (again.upgrade and again.upgrade.pending) or dump_case(
                        again.case
                    ) != dump_case(loaded.case):
                        raise InvalidCaseFile(
                            [Problem(str(path), None, None, "the migration did not read back")]
                        )
                    write_atomic(path, text)
                migrated.append(Migrated(case_id, path, found))
        except InvalidCaseFile as exc:
            problems.extend(exc.problems)
        except CasectlError as exc:
            problems.append(Problem(str(path), None, None, exc.message))
    return migrated, problems
