"""Commands about whole cases: init, new, show, list, check, edit, close, reopen, hold, transfer,
and adding family members, care-team members and consents."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import typer

from casectl.cli.app import commands as app
from casectl.cli.common import (
    By,
    CaseArg,
    Date,
    build_record,
    commit_write,
    drop_empty,
    echo_err,
    echo_ok,
    recorder,
    save,
    save_step,
    say_step,
    stdin_is_tty,
    store,
    when,
)
from casectl.cli.output import (
    Format,
    bom_option,
    check_bom,
    console,
    emit_json,
    emit_rows,
    output_option,
)
from casectl.errors import ExitStatus, ExternalToolError, InvalidInput


@app.command()
def init(
    ctx: typer.Context,
    git: bool = typer.Option(
        False,
        "--git",
        help="Also make the folder a git repository: config tracked, every write a commit.",
    ),
    id_tag: str | None = typer.Option(
        None,
        "--id-tag",
        help="With --git: this clone's tag in new case ids, C-YEAR-TAG-NNNN (default: "
        "your initials from git's user.name).",
    ),
) -> None:
    """Create the data directory with a commented config.toml and a .gitignore.

    With --git the folder is its own repository: config.toml, .gitignore and .gitattributes
    are committed, `[git] commit` is turned on, and case files merge with casectl's driver.

    Example: casectl --data-dir ~/cases init --git --id-tag JR
    """
    cases = store(ctx)
    if id_tag and not git:
        raise InvalidInput("--id-tag goes with --git: it keeps ids apart between clones.")
    made = cases.init()
    for path in made:
        echo_ok(f"created {path}")
    if git:
        from casectl.store.gitlog import init_repository

        for line in init_repository(cases.root, tag=id_tag, fallback_author=recorder(cases, None)):
            echo_ok(line)
    echo_ok(f"data directory ready: {cases.root}")


@app.command()
def new(
    ctx: typer.Context,
    name: str | None = typer.Option(None, "--name", help="The client's full name."),
    dob: str | None = typer.Option(None, "--dob", help="Date of birth, YYYY-MM-DD."),
    sex: str | None = typer.Option(None, "--sex", help="female, male, other or unknown."),
    language: str | None = typer.Option(
        None, "--language", help="Preferred language as a code: en, es, vi …"
    ),
    interpreter: bool | None = typer.Option(
        None, "--interpreter/--no-interpreter", help="An interpreter is needed."
    ),
    culture: str | None = typer.Option(
        None, "--culture", help="Cultural or religious considerations."
    ),
    gestational_age: float | None = typer.Option(
        None,
        "--gestational-age",
        help="Weeks of gestation at birth (32.5 for 32+3): under 37, growth uses the corrected age.",
    ),
    phone: str | None = typer.Option(None, "--phone"),
    email: str | None = typer.Option(None, "--email"),
    address: str | None = typer.Option(None, "--address"),
    manager: str | None = typer.Option(
        None, "--manager", help="Case manager (default: config, else your login)."
    ),
    opened: str | None = typer.Option(None, "--opened", help="Date opened (default today)."),
    case_id: str | None = typer.Option(
        None, "--id", help="Use this case id instead of the next C-YEAR-NNNN."
    ),
    from_: str | None = typer.Option(
        None, "--from", help="YAML/JSON with client, family and care_team (- for stdin)."
    ),
) -> None:
    """Open a case; prints the new case id as the last line.

    Example: casectl new --name "Mia Santos" --dob 2019-04-02 --sex female --language es --interpreter
    """
    from casectl.cli.common import from_file
    from casectl.models.people import CareTeamMember, Client, FamilyMember
    from casectl.stages.lifecycle import open_case
    from casectl.store.paths import check_case_id

    cases = store(ctx)
    cases.require()
    given = from_file(from_)
    client_data: dict[str, Any] = dict(given.get("client") or {})
    contact = drop_empty({"phone": phone, "email": email, "address": address})
    client_data.update(
        drop_empty(
            {
                "name": name,
                "dob": dob,
                "sex": sex,
                "preferred_language": language,
                "interpreter_needed": interpreter,
                "cultural_considerations": culture,
                "gestational_age_weeks": gestational_age,
            }
        )
    )
    if contact:
        client_data["contact"] = {**client_data.get("contact", {}), **contact}
    from casectl.cli import common

    if common.stdin_is_tty():
        from casectl.cli.prompts import new_client

        new_client(client_data)
    client = build_record(
        Client,
        client_data,
        options={
            "name": "--name",
            "dob": "--dob",
            "sex": "--sex",
            "preferred_language": "--language",
        },
        command="new",
    )
    family = [
        build_record(FamilyMember, m, options={}, command="new") for m in given.get("family") or []
    ]
    team = [
        build_record(CareTeamMember, m, options={}, command="new")
        for m in given.get("care_team") or []
    ]
    opened_given = opened or given.get("opened")
    opened_on = (
        opened_given if isinstance(opened_given, dt.date) else when(opened_given, "--opened")
    )
    who = manager or given.get("case_manager") or recorder(cases, None)
    with cases.creating():
        cid = check_case_id(case_id or given.get("id") or cases.next_case_id(opened_on))
        case = open_case(
            cid, client, opened=opened_on, case_manager=who, family=family, care_team=team
        )
        path = cases.create(case, then=lambda p: _commit(cases, p, cid, "new", "case opened", who))
    if sys.stdout.isatty():
        echo_err(f"opened {path}")
    typer.echo(cid)


@app.command()
def show(
    ctx: typer.Context,
    case_id: str = CaseArg,
    fmt: Format = typer.Option(
        Format.table, "--format", "-f", help="table (readable summary) or json."
    ),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Judge dates as of this day (default today)."
    ),
) -> None:
    """A readable summary: client, family, care team, risk and why, plan, referrals, contacts, timeline.

    Example: casectl show C-2026-0001
    """
    from casectl.cli.render import case_json, render_case

    cases = store(ctx)
    case = cases.peek(case_id)
    today = when(as_of, "--as-of")
    if fmt is Format.json:
        emit_json(case_json(case, cases.config, today))
    elif fmt is Format.table:
        render_case(console(), case, cases.config, today)
    else:
        raise InvalidInput("show prints --format table or json.")


@app.command("list")
def list_cases(
    ctx: typer.Context,
    status: list[str] | None = typer.Option(
        None,
        "--status",
        help="open, on-hold, closed, transferred, or active (open + on-hold); repeatable.",
    ),
    risk: list[str] | None = typer.Option(
        None, "--risk", help="low, moderate or high; repeatable."
    ),
    manager: str | None = typer.Option(None, "--manager", help="Only this case manager's cases."),
    stage: list[str] | None = typer.Option(
        None, "--stage", help="Only cases whose furthest step is this."
    ),
    fmt: Format = typer.Option(
        Format.table, "--format", "-f", help="table, json, csv, tsv, ids or xlsx."
    ),
    as_of: str | None = typer.Option(None, "--as-of", help="Compute ages as of this day."),
    output: str | None = output_option(),
    bom: bool = bom_option(),
    no_cache: bool = typer.Option(
        False, "--no-cache", help="Read every file; ignore the summary index."
    ),
) -> None:
    """List cases with their risk, stage and next review; filter by status, risk, manager, stage.

    Example: casectl list --status active --risk high --format csv
    """
    from casectl.review.caseload import LIST_FIELDS, Filters, load_caseload, warn_unknown_manager
    from casectl.text import printable

    check_bom(fmt, bom)
    cases = store(ctx)
    filters = Filters.parse(status=status, risk=risk, manager=manager, stage=stage)
    today = when(as_of, "--as-of")
    entries = load_caseload(cases, use_index=not no_cache)
    warn_unknown_manager(manager, (r.manager for r in entries))
    rows = [r.list_row(today) for r in entries if filters.keep(r)]
    # The folder's name in a rich title: control characters escaped, "[" not taken for markup.
    title = (
        "Cases"
        if fmt is Format.xlsx
        else "Cases in " + printable(str(cases.root)).replace("[", "\\[")
    )
    emit_rows(rows, LIST_FIELDS, fmt, title=title, output=output, bom=bom)


@app.command()
def check(
    ctx: typer.Context,
    case_ids: list[str] | None = typer.Argument(
        None, metavar="[CASE]...", help="Cases to check (default: all)."
    ),
    fmt: str = typer.Option("text", "--format", "-f", help="text (file:line: message) or json."),
) -> None:
    """Validate case files: silent with exit 0 when all is well, else one file:line: message each, exit 1.

    Example: casectl check    (in a git pre-commit hook: casectl check || exit 1)
    """
    from casectl.store.checking import check_cases

    if fmt not in ("text", "json"):
        raise InvalidInput(f"--format {fmt!r}: check prints text or json.")
    from casectl.batch import progress

    cases = store(ctx)
    total = len(case_ids) if case_ids else len(cases.case_files())
    with progress(total, "Checking") as advance:
        problems, warnings = check_cases(cases, case_ids or None, advance=advance)
    for warning in warnings:
        echo_err(f"casectl: warning: {warning}")
    if fmt == "json":
        emit_json([p.to_dict() for p in problems])
    else:
        for problem in problems:
            echo_ok(str(problem))  # a file name may hold anything
    if problems:
        raise typer.Exit(int(ExitStatus.PROBLEMS_FOUND))


@app.command()
def edit(ctx: typer.Context, case_id: str = CaseArg) -> None:
    """Open the case file in $EDITOR; the file is replaced only if what you saved is valid.

    The case stays locked while you edit: a step recorded meanwhile waits for you (up to
    CASECTL_LOCK_TIMEOUT seconds), so neither change is lost.

    Example: EDITOR=nano casectl edit C-2026-0001
    """
    from casectl.errors import InvalidCaseFile
    from casectl.store.editing import Outcome, edit_case
    from casectl.store.store import refuse_read_only

    cases = store(ctx)
    refuse_read_only(cases.path_for(case_id))  # before the editor opens, not after the work
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not editor:
        raise ExternalToolError("set $EDITOR (for example EDITOR=nano) to edit a case.")

    def run_editor(draft: Path) -> None:
        try:
            subprocess.run([*shlex.split(editor), str(draft)], check=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise ExternalToolError(
                f"the editor {editor!r} failed ({exc}); the case is unchanged."
            ) from None

    def again(problem: InvalidCaseFile) -> bool:
        echo_err(f"casectl: {problem.message}")
        return stdin_is_tty() and typer.confirm(
            "Edit again? (no discards your changes)", default=True
        )

    def commit(path: Path) -> None:
        echo_ok(f"saved {path}")
        _commit(cases, path, case_id, "edit", "edited in $EDITOR", recorder(cases, None))

    result = edit_case(cases, case_id, run_editor, again=again, saved=commit)
    if result.outcome is Outcome.unchanged:
        echo_ok("no changes.")
    elif result.outcome is Outcome.discarded:
        echo_ok("discarded; the case is unchanged.")
        raise typer.Exit(int(ExitStatus.INVALID))


def _status_command(action: str) -> Any:
    def command(
        ctx: typer.Context,
        case_id: str = CaseArg,
        reason: str = typer.Option(..., "--reason", help="Why (kept in the case's history)."),
        to: str | None = typer.Option(
            None, "--to", help="transfer: the case manager or service receiving the case."
        ),
        colleague: bool | None = typer.Option(
            None,
            "--colleague/--outside",
            help="transfer: --colleague keeps the case open with a new case manager; --outside "
            "ends it here. Default: a colleague when --to names a case manager in this folder.",
        ),
        date: str | None = Date,
        by: str | None = By,
    ) -> None:
        from casectl.stages import lifecycle

        cases = store(ctx)
        on = when(date)
        who = recorder(cases, by)
        if action == "transfer":
            if not to:
                raise InvalidInput("transfer needs --to: the case manager or service taking over.")
            target = to
            if colleague is not False:
                known = _colleague(cases, to)
                if known is not None or colleague:
                    target = known or to.strip()
                    case = save(
                        ctx,
                        case_id,
                        lambda c: lifecycle.reassign(c, on=on, by=who, reason=reason, to=target),
                    )
                    echo_ok(f"{case.id} is now {case.case_manager}'s (still {case.status}).")
                    return
            case = save(
                ctx,
                case_id,
                lambda c: lifecycle.transfer(c, on=on, by=who, reason=reason, to=target),
            )
        else:
            if colleague is not None:
                raise InvalidInput(f"--colleague and --outside go with transfer, not {action}.")
            change = {"close": lifecycle.close, "reopen": lifecycle.reopen, "hold": lifecycle.hold}[
                action
            ]
            case = save(ctx, case_id, lambda c: change(c, on=on, by=who, reason=reason))
        echo_ok(f"{case.id} is now {case.status}.")

    return command


def _colleague(cases: Any, name: str) -> str | None:
    """The case manager of this folder called `name` (any capitalisation), as spelt in the cases."""
    from casectl.review.caseload import load_caseload

    wanted = name.strip().lower()
    for entry in load_caseload(cases):
        if entry.manager.lower() == wanted:
            return str(entry.manager)
    configured: str = cases.config.case.case_manager
    return configured if configured and configured.lower() == wanted else None


for _action, _help in (
    (
        "close",
        'Close a case with a reason.\n\nExample: casectl close C-2026-0001 --reason "goals met"',
    ),
    (
        "reopen",
        'Reopen a closed, transferred or on-hold case.\n\nExample: casectl reopen C-2026-0001 --reason "new referral"',
    ),
    (
        "hold",
        'Put an open case on hold (it stays in the caseload).\n\nExample: casectl hold C-2026-0001 --reason "family abroad until March"',
    ),
    (
        "transfer",
        'Transfer a case to a colleague (it stays open, with them as case manager) or to an outside service (it ends here).\n\nExample: casectl transfer C-2026-0001 --to "Adult services, J. Lee" --outside --reason "turned 18"',
    ),
):
    app.command(_action, help=_help)(_status_command(_action))


@app.command()
def family(
    ctx: typer.Context,
    case_id: str = CaseArg,
    member_id: str = typer.Option(
        ..., "--id", help="A short handle used elsewhere in the file: mother, grandpa …"
    ),
    name: str = typer.Option(..., "--name"),
    relationship: str = typer.Option(
        ..., "--relationship", help="mother, father, foster parent, sibling …"
    ),
    guardian: bool = typer.Option(False, "--guardian", help="Legal guardian."),
    decision_maker: bool = typer.Option(False, "--decision-maker", help="Makes care decisions."),
    lives_with_client: bool = typer.Option(True, "--lives-with/--lives-apart"),
    language: str | None = typer.Option(None, "--language"),
    phone: str | None = typer.Option(None, "--phone"),
    involvement: str | None = typer.Option(
        None, "--involvement", help="How they take part in care decisions."
    ),
) -> None:
    """Add a family or household member.

    Example: casectl family C-2026-0001 --id mother --name "Rosa Santos" --relationship mother --guardian --decision-maker --language es
    """
    from casectl.models.people import FamilyMember

    member = build_record(
        FamilyMember,
        drop_empty(
            {
                "id": member_id,
                "name": name,
                "relationship": relationship,
                "legal_guardian": guardian,
                "decision_maker": decision_maker,
                "lives_with_client": lives_with_client,
                "language": language,
                "contact": {"phone": phone} if phone else None,
                "involvement": involvement,
            }
        ),
        options={
            "id": "--id",
            "name": "--name",
            "relationship": "--relationship",
            "language": "--language",
            "contact": "--phone",
            "involvement": "--involvement",
        },
        command="family",
    )
    from casectl.stages.people import add_family

    say_step(save_step(ctx, case_id, lambda c: add_family(c, member)))


@app.command()
def team(
    ctx: typer.Context,
    case_id: str = CaseArg,
    member_id: str = typer.Option(..., "--id", help="A short handle: pcp, school, insurer, pt …"),
    name: str = typer.Option(..., "--name"),
    role: str = typer.Option(
        ...,
        "--role",
        help="primary-care, specialist, therapist, school, insurer, social-services …",
    ),
    organisation: str | None = typer.Option(None, "--organisation", "--org"),
    phone: str | None = typer.Option(None, "--phone"),
    email: str | None = typer.Option(None, "--email"),
    consent_to_share: bool = typer.Option(
        False, "--consent-to-share", help="Consent to share information is on file."
    ),
) -> None:
    """Add a member of the care team (a clinician, school, insurer, social services …).

    Example: casectl team C-2026-0001 --id pcp --name "Dr. Ana Ruiz" --role primary-care --org "Eastside Pediatrics" --consent-to-share
    """
    from casectl.models.people import CareTeamMember

    contact = drop_empty({"phone": phone, "email": email})
    member = build_record(
        CareTeamMember,
        drop_empty(
            {
                "id": member_id,
                "name": name,
                "role": role,
                "organisation": organisation,
                "contact": contact or None,
                "consent_to_share": consent_to_share,
            }
        ),
        options={
            "id": "--id",
            "name": "--name",
            "role": "--role",
            "organisation": "--organisation",
            "contact": "--phone/--email",
        },
        command="team",
    )
    from casectl.stages.people import add_team_member

    say_step(save_step(ctx, case_id, lambda c: add_team_member(c, member)))


@app.command()
def consent(
    ctx: typer.Context,
    case_id: str = CaseArg,
    kind: str = typer.Option(
        ..., "--kind", help="What is consented to: share-information, treatment …"
    ),
    given_by: str = typer.Option(..., "--given-by", help="client, or a family member's id."),
    scope: str | None = typer.Option(None, "--scope", help="With whom, about what."),
    expires: str | None = typer.Option(None, "--expires", help="YYYY-MM-DD."),
    date: str | None = Date,
) -> None:
    """Record a consent on file.

    Example: casectl consent C-2026-0001 --kind share-information --given-by mother --scope "school and PCP" --expires 2027-08-31
    """
    from casectl.dates import parse_date
    from casectl.models.people import Consent

    record = build_record(
        Consent,
        drop_empty(
            {
                "date": when(date),
                "kind": kind,
                "given_by": given_by,
                "scope": scope,
                "expires": parse_date(expires, what="--expires") if expires else None,
            }
        ),
        options={"given_by": "--given-by", "kind": "--kind", "scope": "--scope"},
        command="consent",
    )
    from casectl.stages.people import add_consent

    say_step(save_step(ctx, case_id, lambda c: add_consent(c, record)))


def _commit(cases: Any, path: Path, case_id: str, stage: str, summary: str, who: str) -> None:
    from casectl.store.gitlog import ChangeNote

    commit_write(cases, path, case_id, ChangeNote(stage, summary, who))
