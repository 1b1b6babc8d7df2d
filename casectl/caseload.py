"""The whole caseload at once, for `list` and `review`, and the filters both share."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from casectl.errors import InvalidCaseFile, InvalidInput
from casectl.models.case import STAGE_SECTIONS, Case
from casectl.models.vocab import CASE_STATUSES, RISK_LEVELS
from casectl.store.store import CaseStore
from casectl.summary import latest_stage, list_row

STAGES = ("new", *STAGE_SECTIONS)


@dataclass
class CaseEntry:
    """One case in the caseload: the validated case and the config it is judged by."""

    case: Case
    store: CaseStore

    @property
    def status(self) -> str:
        return self.case.status

    @property
    def risk(self) -> str | None:
        r = self.case.current_risk
        return r.effective_level if r else None

    @property
    def manager(self) -> str:
        return self.case.case_manager

    @property
    def stage(self) -> str:
        return latest_stage(self.case)

    def list_row(self, today: dt.date) -> dict[str, Any]:
        return list_row(self.case, self.store.config, today)


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
    """The filters `list`, `show` and `review` share: status, risk, manager, stage, case."""

    status: frozenset[str] | None = None
    risk: frozenset[str] | None = None
    manager: str | None = None
    stage: frozenset[str] | None = None
    cases: frozenset[str] | None = None

    @classmethod
    def parse(
        cls,
        *,
        status: Sequence[str] | None = None,
        risk: Sequence[str] | None = None,
        manager: str | None = None,
        stage: Sequence[str] | None = None,
        cases: Sequence[str] | None = None,
    ) -> Filters:
        statuses = _choices(status, (*CASE_STATUSES, "active"), "--status")
        if statuses and "active" in statuses:
            statuses = (statuses - {"active"}) | {"open", "on-hold"}
        risks = _choices(risk, (*RISK_LEVELS, "none"), "--risk")
        stages = _choices(stage, STAGES, "--stage")
        return cls(
            status=frozenset(statuses) if statuses else None,
            risk=frozenset(risks) if risks else None,
            manager=manager.strip().lower() if manager else None,
            stage=frozenset(stages) if stages else None,
            cases=frozenset(cases) if cases else None,
        )

    def keep(self, entry: Any) -> bool:
        """True when the entry (anything with status, risk, manager, stage, case id) passes."""
        if self.status is not None and entry.status not in self.status:
            return False
        if self.risk is not None and (entry.risk or "none") not in self.risk:
            return False
        if self.manager is not None and entry.manager.lower() != self.manager:
            return False
        if self.stage is not None and entry.stage not in self.stage:
            return False
        return self.cases is None or entry.case.id in self.cases


def load_caseload(store: CaseStore, *, use_index: bool = True) -> list[CaseEntry]:
    """Every valid case in the data directory; invalid files are skipped with a warning."""
    entries: list[CaseEntry] = []
    skipped = 0
    for path in store.case_files():
        try:
            entries.append(CaseEntry(store.read(path).case, store))
        except InvalidCaseFile:
            skipped += 1
    if skipped:
        print(
            f"casectl: warning: {skipped} case file(s) are invalid and were left out; "
            "run `casectl check` to see why.",
            file=sys.stderr,
        )
    return entries
