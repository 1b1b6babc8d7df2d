"""`casectl check`: every problem in every case file, as `file:line: message`."""

from __future__ import annotations

from collections.abc import Callable

from casectl.config import CONFIG_NAME, load_config
from casectl.errors import CasectlError, ConfigError, InvalidCaseFile, Problem
from casectl.store.store import CaseStore, loose_permissions


def check_cases(
    store: CaseStore,
    case_ids: list[str] | None = None,
    *,
    advance: Callable[[int], None] = lambda _: None,
) -> tuple[list[Problem], list[str]]:
    """Validate the given cases (all when None): the problems, and warnings about permissions.

    Valid plain files take the fast validated reader; anything it is unsure of, and every
    invalid file, goes through the full reader, so each problem keeps its line. `advance(1)` is
    called after each file (the CLI's progress bar).
    """
    from casectl.store.fast import read_case

    store.require()
    warnings: list[str] = []
    problems: list[Problem] = []
    try:
        load_config(store.root)
    except ConfigError as exc:
        # The config decides risk and review: a broken one must stop a pre-commit hook too.
        problems.append(Problem(str(store.root / CONFIG_NAME), None, None, exc.message))
    if loose_permissions(store.root):
        warnings.append(f"{store.root} can be read by other users; run: chmod 700 {store.root}")
    paths = [store.path_for(cid) for cid in case_ids] if case_ids else store.case_files()
    for path in paths:
        if not path.exists():
            problems.append(Problem(str(path), None, None, "no such case file"))
            continue
        try:
            read_case(store, path)
        except InvalidCaseFile as exc:
            problems.extend(exc.problems)
        except CasectlError as exc:
            problems.append(Problem(str(path), None, None, exc.message))
        if loose_permissions(path):
            warnings.append(f"{path} can be read by other users; run: chmod 600 {path}")
        advance(1)
    return problems, warnings
