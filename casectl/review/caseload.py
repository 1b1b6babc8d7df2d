"""The whole caseload at once, for `list` and `review`, and the filters both share.

The caseload comes from the summary index (casectl.review.index), so this module imports neither the
models nor the YAML reader: a warm `list` or `review` never loads them.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from casectl.errors import InvalidInput
from casectl.review.index import Caseload, CaseSummary, load_summaries
from casectl.review.worklist import REVIEW_KINDS

if TYPE_CHECKING:
    from casectl.store.store import CaseStore

# The vocabularies the filters accept, spelt out here so that parsing options does not import
# the models (casectl.models imports pydantic and builds every model: ~0.1 s). They are
# "new" + casectl.models.case.STAGE_SECTIONS, and vocab.CASE_STATUSES and vocab.RISK_LEVELS;
# tests/test_index.py checks that they agree.
STAGES = ("new", "screen", "assess", "risk", "plan", "implement", "follow-up", "evaluate")
CASE_STATUSES = ("open", "on-hold", "closed", "transferred")
RISK_LEVELS = ("low", "moderate", "high")

T = TypeVar("T")

# The fields of `casectl list --format json|csv`, in order. A documented contract: add to the
# end, never rename or remove.
LIST_FIELDS = [
    "case_id",
    "client",
    "age",
    "status",
    "risk",
    "stage",
    "manager",
    "opened",
    "last_contact",
    "next_review",
    "open_referrals",
    "language",
    "flags",
]

# One case of the caseload as `list` and `review` see it: its summary from the index.
CaseEntry = CaseSummary


def _choices(values: Sequence[str] | None, allowed: Sequence[str], option: str) -> set[str] | None:
    if not values:
        return None
    chosen = {v.strip().lower() for value in values for v in value.split(",") if v.strip()}
    unknown = sorted(chosen - set(allowed))
    if unknown:
        raise InvalidInput(f"{option} {unknown[0]!r} is not one of: {', '.join(allowed)}.")
    return chosen


@dataclass(frozen=True)
class Filters:
    """The filters `list`, `show` and `review` share: status, risk, manager, stage, case, kind.

    `kinds` (review item kinds) is used by `review` only; `keep` judges whole cases.
    """

    status: frozenset[str] | None = None
    risk: frozenset[str] | None = None
    manager: str | None = None
    stage: frozenset[str] | None = None
    cases: frozenset[str] | None = None
    kinds: frozenset[str] | None = None

    @classmethod
    def parse(
        cls,
        *,
        status: Sequence[str] | None = None,
        risk: Sequence[str] | None = None,
        manager: str | None = None,
        stage: Sequence[str] | None = None,
        cases: Sequence[str] | None = None,
        kinds: Sequence[str] | None = None,
    ) -> Filters:
        statuses = _choices(status, (*CASE_STATUSES, "active"), "--status")
        if statuses and "active" in statuses:
            statuses = (statuses - {"active"}) | {"open", "on-hold"}
        risks = _choices(risk, (*RISK_LEVELS, "none"), "--risk")
        stages = _choices(stage, STAGES, "--stage")
        chosen_kinds = _choices(kinds, REVIEW_KINDS, "--kind")
        chosen_cases = {c.strip() for value in cases or () for c in value.split(",") if c.strip()}
        return cls(
            status=frozenset(statuses) if statuses else None,
            risk=frozenset(risks) if risks else None,
            manager=manager.strip().lower() if manager else None,
            stage=frozenset(stages) if stages else None,
            cases=frozenset(chosen_cases) if chosen_cases else None,
            kinds=frozenset(chosen_kinds) if chosen_kinds else None,
        )

    def select(self, entries: Sequence[T]) -> Sequence[T]:
        """The entries that pass `keep` (all of them, without a look, when no filter is set)."""
        case_filters = (self.status, self.risk, self.manager, self.stage, self.cases)
        if all(f is None for f in case_filters):
            return entries
        return [entry for entry in entries if self.keep(entry)]

    def keep(self, entry: Any) -> bool:
        """True when the entry (anything with status, risk, manager, stage, case_id) passes."""
        if self.status is not None and entry.status not in self.status:
            return False
        if self.risk is not None and (entry.risk or "none") not in self.risk:
            return False
        if self.manager is not None and entry.manager.lower() != self.manager:
            return False
        if self.stage is not None and entry.stage not in self.stage:
            return False
        return self.cases is None or entry.case_id in self.cases


def warn_unknown_manager(given: str | None, managers: Iterable[str]) -> None:
    """Say on stderr when --manager names nobody in the folder (a typo, or a name spelt
    differently), with the names that are there: an empty list is otherwise silent."""
    if not given:
        return
    names = sorted(set(managers), key=str.lower)
    if given.strip().lower() not in {n.lower() for n in names}:
        known = ", ".join(names[:10]) + (" …" if len(names) > 10 else "")
        print(
            f"casectl: note: no case has the case manager {given.strip()!r}"
            + (f"; managers in this folder: {known}." if names else "; the folder has no cases."),
            file=sys.stderr,
        )


def warn_invalid(problems: Sequence[tuple[str, str]]) -> None:
    """Say on standard error which case files were left out as invalid, and why (the first
    few), so that no case drops out of a list or report unsaid."""
    if not problems:
        return
    shown = "; ".join(problem for _, problem in problems[:3])
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    print(
        f"casectl: warning: {len(problems)} case file(s) are invalid and were left out: "
        f"{shown}{more}; run `casectl check` to see every problem.",
        file=sys.stderr,
    )


def read_caseload(
    root: Path, *, today: dt.date, use_index: bool = True, warn: bool = True
) -> Caseload:
    """The caseload of the data directory `root`; invalid files are left out, with a warning
    unless `warn` is off (`review` lists each of them as an item instead)."""
    caseload = load_summaries(root, today=today, use_index=use_index)
    for warning in caseload.warnings:  # about the cache folder: shown whatever `warn` says
        print(f"casectl: warning: {warning}", file=sys.stderr)
    if warn:
        warn_invalid(caseload.problems)
    return caseload


def load_caseload(store: CaseStore, *, use_index: bool = True) -> list[CaseEntry]:
    """Every valid case in the data directory; invalid files are skipped with a warning."""
    return read_caseload(store.root, today=store.today, use_index=use_index).cases
