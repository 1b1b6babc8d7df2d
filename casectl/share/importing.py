"""Moving in: new cases from a spreadsheet export (CSV) or a FHIR Bundle.

Every row is checked before anything is written, and nothing is written unless every row is
good; each problem is reported as `FILE:LINE: column: message`. An existing case is never
replaced: a row naming an id that is already in the data folder stops the import (exit 9).

CSV columns (a header row, UTF-8, comma-separated; column names are case-insensitive, spaces
count as underscores, and only `name`, `dob` and `sex` are required; an empty cell means "not
given"). `examples/import-template.csv` has the header and two synthetic rows.

    id                       case id (default: the next C-YEAR-NNNN for the opening year)
    name                     the client's full name
    dob                      date of birth, YYYY-MM-DD
    sex                      female, male, other or unknown (F and M also work)
    preferred_language       a BCP 47 code: en, es, vi … (default en)
    interpreter_needed       yes/no, true/false, y/n or 1/0 (default no)
    cultural_considerations  free text
    case_manager             default: config case_manager, else the login name
    opened                   the date the case was opened, YYYY-MM-DD (default today)
    phone, email, address    the client's contact details
    guardian_id              the family member's handle (default: the relationship, e.g. mother)
    guardian_name            one family member, who is recorded as legal guardian and
    guardian_relationship    decision maker: name and relationship are needed when any
    guardian_language        guardian column is filled in
    guardian_phone
    guardian_email
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from casectl.errors import InvalidInput, Problem, UnsafePath
from casectl.models.case import Case
from casectl.models.people import HANDLE
from casectl.models.validation import CaseInvalid, format_loc, validate_case
from casectl.stages.lifecycle import open_case
from casectl.store.paths import CASE_SUFFIX, check_case_id
from casectl.store.store import CaseStore
from casectl.text import from_spreadsheet

REQUIRED = ("name", "dob", "sex")
COLUMNS = (
    "id",
    "name",
    "dob",
    "sex",
    "preferred_language",
    "interpreter_needed",
    "cultural_considerations",
    "case_manager",
    "opened",
    "phone",
    "email",
    "address",
    "guardian_id",
    "guardian_name",
    "guardian_relationship",
    "guardian_language",
    "guardian_phone",
    "guardian_email",
)
# Where a problem in the case data comes from in the spreadsheet.
_COLUMN_OF: dict[tuple[str | int, ...], str] = {
    ("id",): "id",
    ("opened",): "opened",
    ("case_manager",): "case_manager",
    ("client", "name"): "name",
    ("client", "dob"): "dob",
    ("client", "sex"): "sex",
    ("client", "preferred_language"): "preferred_language",
    ("client", "interpreter_needed"): "interpreter_needed",
    ("client", "cultural_considerations"): "cultural_considerations",
    ("client", "contact", "phone"): "phone",
    ("client", "contact", "email"): "email",
    ("client", "contact", "address"): "address",
    ("family", 0, "id"): "guardian_id",
    ("family", 0, "name"): "guardian_name",
    ("family", 0, "relationship"): "guardian_relationship",
    ("family", 0, "language"): "guardian_language",
    ("family", 0, "contact", "phone"): "guardian_phone",
    ("family", 0, "contact", "email"): "guardian_email",
}
_TRUE = {"yes", "y", "true", "t", "1", "x"}
_FALSE = {"no", "n", "false", "f", "0"}
_SEX = {"f": "female", "m": "male", "u": "unknown", "o": "other"}
# Stands in for ids still to be allocated while a row is checked.
_PLACEHOLDER_ID = "import-check"


class ImportRejected(InvalidInput):
    """Rows that are not valid cases; nothing was written."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.problems = problems
        rows = len({p.line for p in problems})
        super().__init__(
            f"{source}: {len(problems)} problem(s) in {rows} row(s); nothing was imported. "
            "Fix them and run the import again."
        )


class ImportCollision(UnsafePath):
    """Rows that name cases already in the data folder; nothing was written."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(
            f"{source}: {len(problems)} case id(s) already exist; nothing was imported "
            "(casectl never replaces a case: change the ids or leave the id column empty)."
        )


@dataclass
class ImportRow:
    """One checked row: its line in the file and the case it makes (id set when given)."""

    line: int
    case: Case
    id_given: bool


def _column(name: str) -> str:
    return re.sub(r"[\s-]+", "_", name.strip().lower())


def _decode(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{source}: is not UTF-8 text (byte {exc.start}); export the sheet as "
            "'CSV UTF-8' and try again."
        ) from None


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record with the line it starts on (a quoted cell may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    for record in reader:
        yield start, record
        start = reader.line_num + 1


def _bool(value: str) -> bool | str:
    word = value.lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return value


def _date(value: str) -> dt.date | str:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return value


def _row_data(cells: dict[str, str], *, today: dt.date, case_manager: str) -> dict[str, Any]:
    """The case data one row describes, before validation."""
    client: dict[str, Any] = {
        "name": cells.get("name", ""),
        "dob": _date(cells.get("dob", "")),
        "sex": _SEX.get(cells.get("sex", "").lower(), cells.get("sex", "").lower()),
    }
    if cells.get("preferred_language"):
        client["preferred_language"] = cells["preferred_language"]
    if cells.get("interpreter_needed"):
        client["interpreter_needed"] = _bool(cells["interpreter_needed"])
    if cells.get("cultural_considerations"):
        client["cultural_considerations"] = cells["cultural_considerations"]
    contact = {k: cells[k] for k in ("phone", "email", "address") if cells.get(k)}
    if contact:
        client["contact"] = contact
    data: dict[str, Any] = {
        "id": cells.get("id") or _PLACEHOLDER_ID,
        "status": "open",
        "opened": _date(cells["opened"]) if cells.get("opened") else today,
        "case_manager": cells.get("case_manager") or case_manager,
        "client": client,
    }
    guardian = {k: v for k, v in cells.items() if k.startswith("guardian_") and v}
    if guardian:
        relationship = guardian.get("guardian_relationship", "")
        handle = relationship.lower().replace(" ", "-")
        member: dict[str, Any] = {
            "id": guardian.get("guardian_id")
            or (handle if re.match(HANDLE, handle) else "guardian"),
            "name": guardian.get("guardian_name", ""),
            "relationship": relationship,
            "legal_guardian": True,
            "decision_maker": True,
        }
        if guardian.get("guardian_language"):
            member["language"] = guardian["guardian_language"]
        member_contact = {
            k: guardian[f"guardian_{k}"]
            for k in ("phone", "email")
            if guardian.get(f"guardian_{k}")
        }
        if member_contact:
            member["contact"] = member_contact
        data["family"] = [member]
    return data


def check_csv(raw: bytes, *, source: str, today: dt.date, case_manager: str) -> list[ImportRow]:
    """Check every row of a CSV export; the rows as cases, or ImportRejected listing every problem."""
    text = _decode(raw, source)
    problems: list[Problem] = []
    rows: list[ImportRow] = []
    records = _records(text)
    try:
        header_line, header = next(records)
    except StopIteration:
        raise InvalidInput(
            f"{source}: is empty; it needs a header row and one row per case."
        ) from None
    except csv.Error as exc:
        raise InvalidInput(f"{source}:1: cannot be read as CSV ({exc}).") from None
    columns = [_column(h) for h in header]
    for name in columns:
        if name not in COLUMNS:
            problems.append(
                Problem(
                    source,
                    header_line,
                    name or "(blank)",
                    f"unknown column (misspelt?); the columns are: {', '.join(COLUMNS)}",
                )
            )
    for name in REQUIRED:
        if name not in columns:
            problems.append(Problem(source, header_line, name, "the column is missing"))
    if problems:
        raise ImportRejected(source, problems)
    seen_ids: dict[str, int] = {}
    try:
        for line, record in records:
            if not any(cell.strip() for cell in record):
                continue
            if len(record) > len(columns):
                problems.append(
                    Problem(
                        source,
                        line,
                        None,
                        f"has {len(record)} cells but the header names {len(columns)} columns",
                    )
                )
                continue
            # A cell `casectl ... --format csv` neutralised ('=…) reads as what it stood for.
            cells = {c: from_spreadsheet(v.strip()) for c, v in zip(columns, record, strict=False)}
            row_problems = list(_check_row(cells, line, source, seen_ids, today))
            reported = {p.field for p in row_problems}
            try:
                case = validate_case(
                    _row_data(cells, today=today, case_manager=case_manager), today=today
                )
            except CaseInvalid as exc:
                # Every column's problem, but each column once: the row checks word it best.
                for loc, message in exc.problems:
                    column = _COLUMN_OF.get(loc, format_loc(loc))
                    if column not in reported:
                        row_problems.append(Problem(source, line, column, message))
                        reported.add(column)
            else:
                if not row_problems:
                    rows.append(ImportRow(line, case, id_given=bool(cells.get("id"))))
            problems += sorted(
                row_problems,
                key=lambda p: COLUMNS.index(p.field) if p.field in COLUMNS else len(COLUMNS),
            )
    except csv.Error as exc:
        problems.append(Problem(source, None, None, f"cannot be read as CSV ({exc})"))
    if problems:
        raise ImportRejected(source, problems)
    if not rows:
        raise InvalidInput(f"{source}: has a header but no rows; nothing to import.")
    return rows


def _check_row(
    cells: dict[str, str], line: int, source: str, seen_ids: dict[str, int], today: dt.date
) -> Iterator[Problem]:
    """What the case model cannot say in the spreadsheet's words (ids, dates, yes/no), and the
    date checks it makes only once every field is valid, so that a row's problems come at once."""
    for name in REQUIRED:
        if not cells.get(name):
            yield Problem(source, line, name, "is empty; every row needs it")
    case_id = cells.get("id")
    if case_id:
        try:
            check_case_id(case_id)
        except UnsafePath as exc:
            yield Problem(source, line, "id", exc.message.rstrip("."))
        if case_id in seen_ids:
            yield Problem(source, line, "id", f"{case_id} is also on line {seen_ids[case_id]}")
        seen_ids.setdefault(case_id, line)
    dates: dict[str, dt.date] = {}
    for name in ("dob", "opened"):
        value = cells.get(name)
        day = _date(value) if value else None
        if isinstance(day, str):
            yield Problem(
                source,
                line,
                name,
                f"{value!r} is not a date; use YYYY-MM-DD (format the column as ISO dates)",
            )
        elif day is not None and day > today:
            yield Problem(source, line, name, f"{day} is in the future (today is {today})")
        elif day is not None:
            dates[name] = day
    if "dob" in dates and dates["dob"] > dates.get("opened", today):
        yield Problem(source, line, "dob", "date of birth is after the date the case was opened")
    value = cells.get("interpreter_needed")
    if value and isinstance(_bool(value), str):
        yield Problem(source, line, "interpreter_needed", f"{value!r} is not yes or no")
    guardian = [k for k, v in cells.items() if k.startswith("guardian_") and v]
    if guardian:
        for needed in ("guardian_name", "guardian_relationship"):
            if not cells.get(needed):
                yield Problem(
                    source, line, needed, "is needed when any guardian column is filled in"
                )


# --- FHIR ---


@dataclass
class FhirPlan:
    """What importing one patient of a FHIR file would do: open a case or add to one."""

    case: Case  # the case as it would be written
    action: str  # "open" or "merge"
    lines: list[Any]  # casectl.share.fhir_import.Line, one per resource
    notes: list[str]
    exact: bool = False  # a casectl bundle read back exactly as exported
    matched_by: str | None = None  # for a merge: "identifier", "name and date of birth", "--into"
    confirm: bool = False  # the match needs the user's yes (by name and date of birth)
    user_keys: Sequence[Any] = ()
    draft: Any = None  # the third-party draft, applied again under the case's lock
    added: int = 0


def plan_fhir(
    store: CaseStore,
    raw: bytes,
    *,
    source: str,
    recorded_by: str,
    into: str | None = None,
    new: bool = False,
) -> list[FhirPlan]:
    """What a FHIR file (a Bundle or NDJSON) would do to the data folder, patient by patient.

    A Bundle that `casectl export --format fhir` wrote and nobody changed opens the same case
    again; anything else is mapped by casectl.share.fhir_import. A patient whose case is here
    already (this folder's case-id identifier, else the same name and date of birth) is added
    to it; `into` names the case outright, `new` opens a new case whatever matches.
    """
    from casectl.share import fhir, fhir_import

    today = store.today
    sources = fhir_import.read_sources(raw, source)
    plans: list[FhirPlan] = []
    taken = set(store.case_ids())
    for found in sources:
        fallback: list[str] = []
        if found.bundle is not None and fhir.is_casectl_bundle(found.bundle) and into is None:
            try:
                case, keys = fhir.read_bundle(found.bundle, today=today)
            except InvalidInput as exc:
                fallback.append(
                    "the Bundle was written by casectl but does not read back exactly ("
                    + exc.message.rstrip(".")
                    + "), so it was read like any other system's: what has no FHIR element "
                    "(risk records, screenings, evaluations …) is not imported"
                )
            else:
                lines = [
                    fhir_import.Line(i.name, to="the case, exactly as exported")
                    for i in found.items
                ]
                plans.append(FhirPlan(case, "open", lines, [], exact=True, user_keys=keys))
                taken.add(case.id)
                continue
        drafts = fhir_import.extract(found, today=today)
        for draft in drafts:
            draft.notes[:0] = fallback
            plans.append(_plan_draft(store, draft, source, recorded_by, into, new, taken))
    if into is not None and len(plans) > 1:
        raise InvalidInput(
            f"{source}: holds {len(plans)} patients; --into adds one patient to one case."
        )
    return plans


def _plan_draft(
    store: CaseStore,
    draft: Any,
    source: str,
    recorded_by: str,
    into: str | None,
    new: bool,
    taken: set[str],
) -> FhirPlan:
    from casectl.share import fhir_import

    today = store.today
    system = store.config.fhir.identifier_system
    match: Any = None
    if into is not None:
        match = fhir_import.Match(into, "--into")
    elif not new:
        from casectl.review.index import load_summaries

        summaries = load_summaries(store.root, today=today).cases
        clients = [(c.case_id, c.client, dt.date.fromisoformat(c.dob)) for c in summaries if c.dob]
        match = fhir_import.find_match(
            draft, identifier_system=system, case_ids=taken, clients=clients
        )
    interval = store.config.review.interval_moderate_days
    label = Path(source).name
    if match is not None:
        base = store.peek(match.case_id)
        applied = fhir_import.apply(
            draft,
            base,
            today=today,
            recorded_by=recorded_by,
            review_interval_days=interval,
            source=label,
        )
        lines = [
            fhir_import.Line(
                line.resource, to=f"matched case {match.case_id}; its client details are kept"
            )
            if line.resource == draft.patient
            else line
            for line in applied.lines
        ]
        return FhirPlan(
            applied.case,
            "merge",
            lines,
            applied.notes,
            matched_by=match.by,
            confirm=match.by == "name and date of birth",
            draft=draft,
            added=applied.added,
        )
    case_id = next(
        (
            value
            for sys_, value in draft.identifiers
            if sys_ == system and value not in taken and _safe_id(value)
        ),
        None,
    ) or _next_id(store, today, taken)
    taken.add(case_id)
    base = open_case(case_id, draft.client, opened=today, case_manager=recorded_by)
    applied = fhir_import.apply(
        draft,
        base,
        today=today,
        recorded_by=recorded_by,
        review_interval_days=interval,
        source=label,
    )
    return FhirPlan(
        applied.case, "open", applied.lines, applied.notes, draft=draft, added=applied.added
    )


def _put_back(keys: Sequence[Any]) -> Any:
    from casectl.share.fhir import with_user_keys

    def put(data: dict[str, Any]) -> None:
        with_user_keys(data, keys)

    return put


def _safe_id(value: str) -> bool:
    try:
        check_case_id(value)
    except UnsafePath:
        return False
    return True


def _next_id(store: CaseStore, opened: dt.date, taken: set[str]) -> str:
    stem = f"{store.config.case.id_prefix}-{opened.year}-"
    pattern = re.compile(rf"^{re.escape(stem)}(\d{{4,}})$")
    numbers = [int(m.group(1)) for t in taken if (m := pattern.match(t))]
    return f"{stem}{max(numbers, default=0) + 1:04d}"


def write_fhir(
    store: CaseStore, plans: Sequence[FhirPlan], *, source: str, recorded_by: str
) -> list[tuple[FhirPlan, Path]]:
    """Open the new cases (all or none) and add to the matched ones, each under its lock.

    A merge is applied again to the case as it is when its lock is held, so a change made
    meanwhile is kept; an existing case is never replaced.
    """
    from casectl.share import fhir_import

    done: list[tuple[FhirPlan, Path]] = []
    made: list[Path] = []
    interval = store.config.review.interval_moderate_days
    with store.creating():
        try:
            for plan in plans:
                if plan.action != "open":
                    continue
                path = store.path_for(plan.case.id)
                if path.exists() or path.is_symlink():
                    raise UnsafePath(
                        f"{source}: a case {plan.case.id} already exists in {store.root}; "
                        "casectl never replaces a case."
                    )
                made.append(store.create(plan.case, extra=_put_back(plan.user_keys)))
                done.append((plan, made[-1]))
        except BaseException:
            for path in made:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
            raise
    for plan in plans:
        if plan.action != "merge" or not plan.added:
            continue
        draft = plan.draft

        def change(current: Case, draft: Any = draft) -> Case:
            return fhir_import.apply(
                draft,
                current,
                today=store.today,
                recorded_by=recorded_by,
                review_interval_days=interval,
                source=Path(source).name,
            ).case

        store.update(plan.case.id, change)
        done.append((plan, store.path_for(plan.case.id)))
    return done


# --- writing ---


def allocate_ids(store: CaseStore, rows: list[ImportRow]) -> list[Case]:
    """The rows' cases with their final ids: given ids kept, the rest the next free
    PREFIX-YEAR-NNNN, counting ids already in the folder and in the file."""
    taken = set(store.case_ids()) | {r.case.id for r in rows if r.id_given}
    cases: list[Case] = []
    for row in rows:
        case_id = row.case.id
        if not row.id_given:
            case_id = store.next_case_id(row.case.opened, taken)
            taken.add(case_id)
        cases.append(
            open_case(
                case_id,
                row.case.client,
                opened=row.case.opened,
                case_manager=row.case.case_manager,
                family=row.case.family,
            )
        )
    return cases


def collisions(store: CaseStore, rows: list[ImportRow], source: str) -> list[Problem]:
    """Rows whose given id already names a case file in the data folder."""
    return [
        Problem(
            source,
            row.line,
            "id",
            f"a case {row.case.id} already exists in {store.root}",
        )
        for row in rows
        if row.id_given
        and ((path := store.root / f"{row.case.id}{CASE_SUFFIX}").exists() or path.is_symlink())
    ]


def create_all(store: CaseStore, rows: list[ImportRow], source: str) -> list[tuple[Case, Path]]:
    """Create every row's case, or none: on any failure the files made so far are removed."""
    with store.creating():
        clash = collisions(store, rows, source)
        if clash:
            raise ImportCollision(source, clash)
        made: list[tuple[Case, Path]] = []
        try:
            for case in allocate_ids(store, rows):
                made.append((case, store.create(case)))
        except BaseException:
            for _, path in made:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
            raise
    return made
