"""The seven stage commands: screen, assess, risk, plan, implement, follow-up, evaluate.

Each takes its input as options, from a YAML/JSON file (`--from FILE`, `-` for stdin), or — on
a terminal, when required input is missing — by asking for it. Item options take the form
`TEXT; key=value; flag`, e.g. `--goal "Fewer asthma attacks; measure=ED visits; target=0; by=2027-03-01"`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import typer

from casectl.cli import prompts
from casectl.cli.app import commands as app
from casectl.cli.common import (
    By,
    CaseArg,
    Date,
    build_record,
    drop_empty,
    echo_ok,
    from_file,
    recorder,
    run_step,
    say_step,
    split_csv,
    store,
    when,
)
from casectl.cli.output import console, parse_spec
from casectl.errors import InvalidInput

Note = typer.Option(None, "--note", help="A free-text note kept with the record.")
From = typer.Option(
    None,
    "--from",
    help="Read the record from a YAML or JSON file (- for stdin); options add to it.",
)
Instrument = typer.Option(
    None,
    "--instrument",
    help="Score an instrument: phq-9, phq-a, gad-7, psc-17, hunger-vital-sign, ahc-hrsn, m-chat-r …",
)
Answers = typer.Option(
    None,
    "--answers",
    help="The instrument's answers, comma-separated (blank for unanswered): 0,1,2,…",
)
Member = typer.Option(
    None,
    "--member",
    help="A family member's id when they answered the instrument about themselves (a caregiver's PHQ-9).",
)


def _base(from_: str | None, date: str | None, by: str | None, note: str | None) -> dict[str, Any]:
    """The draft a stage starts from: the --from file, with --date, --by and --note over it.

    A date or recorder the user did not give is filled in by the stage (today; the config's
    case manager, else the login name)."""
    data = from_file(from_)
    if date:
        data["date"] = when(date)
    if by:
        data["recorded_by"] = by
    if note:
        data["note"] = note
    return data


def _asking(ctx: typer.Context, case_id: str, stage: str) -> Any | None:
    """On a terminal, the case as it stands, to offer its people, goals and referrals in the
    questions — once the stage is known to be possible, so nobody answers questions for a
    step that would be refused. None when standard input is not a terminal (nothing is
    asked). The write reads the case again under its lock and checks everything there."""
    from casectl.cli import common

    if not common.stdin_is_tty():
        return None
    from casectl.stages import check_order

    case = store(ctx).peek(case_id)
    check_order(case, stage)
    return case


def _when_and_who(ctx: typer.Context) -> tuple[dt.date, str]:
    """The defaults a stage stamps a record with: today, and who is recording."""
    return when(None), recorder(store(ctx), None)


def _instrument(
    name: str | None, answers: str | None, member: str | None = None
) -> list[dict[str, Any]]:
    if not name:
        if answers or member:
            raise InvalidInput("--answers and --member need --instrument NAME.")
        return []
    from casectl.cli.common import stdin_is_tty
    from casectl.stages.instruments import instrument_record, score_answers, to_record

    whose = {"member": member} if member else {}
    if answers is None and stdin_is_tty():
        result = score_answers(name, administer(name))
        return [{**to_record(result).model_dump(exclude_unset=True), **whose}]
    return [{**instrument_record(name, answers).model_dump(exclude_unset=True), **whose}]


def _tracking(
    data: dict[str, Any],
    *,
    adherence: str | None,
    psychiatric_admissions: int | None,
    discharged: str | None,
    caregiver_depression: list[str] | None,
    hba1c: float | None,
    immunisations: str | None,
    immunisations_date: str | None,
    milestones: list[str] | None,
    school_plan: str | None,
) -> None:
    """Add the mental-health and chronic-condition options of `assess` to its record."""
    data.update(drop_empty({"medication_adherence": adherence, "hba1c_percent": hba1c}))
    use = drop_empty(
        {
            "psychiatric_admissions_12m": psychiatric_admissions,
            "last_psychiatric_discharge": when(discharged, "--discharged") if discharged else None,
        }
    )
    if use:
        data["utilisation"] = {**data.get("utilisation", {}), **use}
    if caregiver_depression:
        care = data.setdefault("caregiving", {})
        care["depression"] = [*care.get("depression", []), *split_csv(caregiver_depression)]
    if immunisations_date and not immunisations:
        raise InvalidInput(
            "--immunisations-date needs --immunisations up-to-date|not-up-to-date|unknown."
        )
    if immunisations:
        data["immunisations"] = drop_empty(
            {
                "status": immunisations,
                "date": when(immunisations_date, "--immunisations-date")
                if immunisations_date
                else None,
            }
        )
    data["milestones"] = [*data.get("milestones", []), *(milestones or [])]
    if school_plan:
        plan = parse_spec(school_plan, first="kind", option="--school-plan")
        if "review" in plan:
            plan["review"] = when(str(plan["review"]), "--school-plan review")
        data["school_plan"] = plan


def administer(name: str) -> list[int | None]:
    """Give an instrument item by item at the terminal; Enter leaves an optional item blank.

    A wrong answer is asked again; Ctrl-C stops the command with nothing written."""
    from casectl.cli.prompts import Question, ask, say, say_wrapped
    from casectl.clinical.errors import ClinicalInputError
    from casectl.clinical.instruments import get_instrument
    from casectl.stages.instruments import parse_answers

    try:
        instrument = get_instrument(name)
    except ClinicalInputError as exc:
        raise InvalidInput(str(exc)) from None
    say_wrapped(f"{instrument.title}  ({instrument.source})")
    if instrument.prompt:
        say_wrapped(instrument.prompt)
    if not instrument.items:
        if instrument.name == "gas":
            while True:
                scores = ask(Question("gas", "Each goal's score, -2 to +2, comma-separated"))
                try:
                    return parse_answers(scores)
                except InvalidInput as exc:
                    say(f"  {exc.message.rstrip('.')}.")
        total = ask(Question("total", "Total score obtained on the official form", "integer"))
        return [int(total)]
    answers: list[int | None] = []
    for n, item in enumerate(instrument.items, start=1):
        text = (
            item.text
            or f"item {n} ({item.key}; wording not shipped — read it from the licensed form)"
        )
        say()
        say_wrapped(f"{n}. {text}")
        say_wrapped("  ".join(f"{value} {label}" for value, label in item.options), indent="   ")
        blank = item.optional or not item.scored
        values = tuple(str(v) for v in item.values)
        raw = ask(
            Question("answer", "   answer", "choice", choices=values, optional=blank, listed=False)
        )
        answers.append(None if raw is None else int(raw))
    return answers


@app.command()
def screen(
    ctx: typer.Context,
    case_id: str = CaseArg,
    referral_source: str | None = typer.Option(
        None, "--referral-source", help="Who referred the client."
    ),
    referral_reason: str | None = typer.Option(
        None, "--referral-reason", help="Why they were referred."
    ),
    records: list[str] | None = typer.Option(
        None, "--record", help="A record or history reviewed (repeatable)."
    ),
    medical: str | None = typer.Option(None, "--medical", help="Current medical situation."),
    financial: str | None = typer.Option(None, "--financial", help="Current financial situation."),
    living: str | None = typer.Option(None, "--living", help="Current living situation."),
    social_support: str | None = typer.Option(
        None, "--social-support", help="Current social support."
    ),
    eligible: bool | None = typer.Option(
        None, "--eligible/--not-eligible", help="Eligible for case management?"
    ),
    reason: str | None = typer.Option(None, "--reason", help="Why eligible or not."),
    instrument: str | None = Instrument,
    answers: str | None = Answers,
    member: str | None = Member,
    date: str | None = Date,
    by: str | None = By,
    note: str | None = Note,
    from_: str | None = From,
) -> None:
    """Screen a referral: source and reason, records reviewed, situation, instruments, eligibility.

    Example: casectl screen C-2026-0001 --referral-source "NICU social work" --referral-reason "feeding problems" --eligible --reason "complex needs, housing unstable"
    """
    from casectl.stages.screen import screen as screen_step

    data = _base(from_, date, by, note)
    data.update(
        drop_empty(
            {
                "referral_source": referral_source,
                "referral_reason": referral_reason,
                "eligible": eligible,
                "eligibility_reason": reason,
            }
        )
    )
    data["records_reviewed"] = [*data.get("records_reviewed", []), *(records or [])]
    situation = drop_empty(
        {
            "medical": medical,
            "financial": financial,
            "living": living,
            "social_support": social_support,
        }
    )
    if situation:
        data["situation"] = {**data.get("situation", {}), **situation}
    data["instruments"] = [*data.get("instruments", []), *_instrument(instrument, answers, member)]
    case = _asking(ctx, case_id, "screen")
    if case is not None:
        prompts.screening(data, case)
    on, who = _when_and_who(ctx)
    step = run_step(
        ctx,
        case_id,
        lambda case, draft: screen_step(case, draft, on=on, by=who),
        drop_empty(data),
        options={
            "referral_source": "--referral-source",
            "referral_reason": "--referral-reason",
            "eligible": "--eligible/--not-eligible",
            "eligibility_reason": "--reason",
        },
        command="screen",
    )
    say_step(step, next_command="assess" if step.record.eligible else None)
    _say_safety(step)


@app.command()
def assess(
    ctx: typer.Context,
    case_id: str = CaseArg,
    health_status: str | None = typer.Option(
        None, "--health-status", help="Overall health status, in a sentence."
    ),
    diagnoses: list[str] | None = typer.Option(
        None,
        "--diagnosis",
        help='"Description; icd10=J45.40; system=respiratory; complex; progressive; acute" (repeatable).',
    ),
    medications: list[str] | None = typer.Option(
        None, "--medication", help='"Name; dose=2 puffs; frequency=twice daily" (repeatable).'
    ),
    allergies: list[str] | None = typer.Option(None, "--allergy", help="An allergy (repeatable)."),
    height_cm: float | None = typer.Option(None, "--height-cm"),
    weight_kg: float | None = typer.Option(None, "--weight-kg"),
    systolic: int | None = typer.Option(None, "--systolic", help="Systolic blood pressure, mm Hg."),
    diastolic: int | None = typer.Option(
        None, "--diastolic", help="Diastolic blood pressure, mm Hg."
    ),
    heart_rate: int | None = typer.Option(None, "--heart-rate"),
    providers: list[str] | None = typer.Option(
        None, "--provider", help="A provider consulted (repeatable)."
    ),
    payer: str | None = typer.Option(
        None, "--insurance", help="Insurer or programme (e.g. Medicaid)."
    ),
    coverage_gap: bool | None = typer.Option(
        None, "--coverage-gap/--no-coverage-gap", help="A gap in insurance coverage."
    ),
    support_system: str | None = typer.Option(None, "--support-system"),
    treatment_history: str | None = typer.Option(
        None, "--treatment-history", help="How past treatment worked."
    ),
    family_dynamics: str | None = typer.Option(
        None, "--family-dynamics", help="Members, roles, who decides."
    ),
    language_culture: str | None = typer.Option(
        None, "--language-culture", help="Language, interpreter and cultural needs."
    ),
    emotional_social: str | None = typer.Option(
        None, "--emotional-social", help="Emotional and social needs."
    ),
    development_school: str | None = typer.Option(
        None, "--development-school", help="Development and school."
    ),
    impact: list[str] | None = typer.Option(
        None,
        "--impact",
        help='Functional impact as "area=text"; areas: independence, finances, safety, family, social, school_or_work.',
    ),
    ed_visits: int | None = typer.Option(
        None, "--ed-visits", help="Emergency department visits in the last 12 months."
    ),
    admissions: int | None = typer.Option(
        None, "--admissions", help="Hospital admissions in the last 12 months."
    ),
    missed: int | None = typer.Option(
        None, "--missed-appointments", help="Missed appointments in the last 12 months."
    ),
    social_needs: list[str] | None = typer.Option(
        None,
        "--social-need",
        help="housing, food, transportation, utilities, safety, finances, childcare, legal (repeatable).",
    ),
    caregiver_strain: str | None = typer.Option(
        None, "--caregiver-strain", help="none, mild, moderate or severe."
    ),
    caregiver_support: str | None = typer.Option(
        None, "--caregiver-support", help="Who supports the caregiver."
    ),
    caregiver_depression: list[str] | None = typer.Option(
        None, "--caregiver-depression", help="A family member (id) with depression (repeatable)."
    ),
    adherence: str | None = typer.Option(
        None, "--adherence", help="Medication adherence: good, partial, poor or unknown."
    ),
    psychiatric_admissions: int | None = typer.Option(
        None, "--psychiatric-admissions", help="Psychiatric admissions in the last 12 months."
    ),
    discharged: str | None = typer.Option(
        None, "--discharged", help="Date of the last discharge from a psychiatric admission."
    ),
    hba1c: float | None = typer.Option(None, "--hba1c", help="Latest HbA1c, in %."),
    immunisations: str | None = typer.Option(
        None, "--immunisations", help="up-to-date, not-up-to-date or unknown."
    ),
    immunisations_date: str | None = typer.Option(
        None, "--immunisations-date", help="When the immunisation record was checked."
    ),
    milestones: list[str] | None = typer.Option(
        None, "--milestone", help="A developmental milestone noted (repeatable)."
    ),
    school_plan: str | None = typer.Option(
        None,
        "--school-plan",
        help='"iep; review=YYYY-MM-DD" (or 504, evaluation, none).',
    ),
    instrument: str | None = Instrument,
    answers: str | None = Answers,
    member: str | None = Member,
    date: str | None = Date,
    by: str | None = By,
    note: str | None = Note,
    from_: str | None = From,
) -> None:
    """Assess in depth: health, diagnoses, medications, vitals, family, culture, needs, impact.

    Example: casectl assess C-2026-0001 --health-status "stable, poorly controlled asthma" --diagnosis "Moderate persistent asthma; icd10=J45.40" --height-cm 132 --weight-kg 30 --systolic 108 --diastolic 68 --ed-visits 3
    """
    from casectl.stages.assess import assess as assess_step

    data = _base(from_, date, by, note)
    data.update(
        drop_empty(
            {
                "health_status": health_status,
                "support_system": support_system,
                "treatment_history": treatment_history,
                "family_dynamics": family_dynamics,
                "language_culture": language_culture,
                "emotional_social": emotional_social,
                "development_school": development_school,
            }
        )
    )
    for d in diagnoses or []:
        item = parse_spec(
            d, first="description", option="--diagnosis", flags=("complex", "progressive", "acute")
        )
        if item.pop("acute", False):
            item["chronic"] = False
        if "system" in item:
            item["body_system"] = item.pop("system")
        data.setdefault("diagnoses", []).append(item)
    for m in medications or []:
        data.setdefault("medications", []).append(
            parse_spec(m, first="name", option="--medication")
        )
    data["allergies"] = [*data.get("allergies", []), *(allergies or [])]
    vitals = drop_empty(
        {
            "height_cm": height_cm,
            "weight_kg": weight_kg,
            "systolic": systolic,
            "diastolic": diastolic,
            "heart_rate": heart_rate,
        }
    )
    if vitals:
        data["vitals"] = {**(data.get("vitals") or {}), **vitals}
    data["providers_consulted"] = [*data.get("providers_consulted", []), *(providers or [])]
    insurance = drop_empty({"payer": payer, "coverage_gap": coverage_gap})
    if insurance:
        data["insurance"] = {**(data.get("insurance") or {}), **insurance}
    for entry in impact or []:
        area, sep, text = entry.partition("=")
        if not sep:
            raise InvalidInput(
                f'--impact {entry!r}: write it as "area=text", e.g. "school_or_work=misses 2 days a week".'
            )
        data.setdefault("functional_impact", {})[area.strip().replace("-", "_")] = text.strip()
    use = drop_empty(
        {
            "ed_visits_12m": ed_visits,
            "admissions_12m": admissions,
            "missed_appointments_12m": missed,
        }
    )
    if use:
        data["utilisation"] = {**data.get("utilisation", {}), **use}
    data["social_needs"] = [*data.get("social_needs", []), *split_csv(social_needs)]
    care = drop_empty({"strain": caregiver_strain, "support": caregiver_support})
    if care:
        data["caregiving"] = {**data.get("caregiving", {}), **care}
    _tracking(
        data,
        adherence=adherence,
        psychiatric_admissions=psychiatric_admissions,
        discharged=discharged,
        caregiver_depression=caregiver_depression,
        hba1c=hba1c,
        immunisations=immunisations,
        immunisations_date=immunisations_date,
        milestones=milestones,
        school_plan=school_plan,
    )
    data["instruments"] = [*data.get("instruments", []), *_instrument(instrument, answers, member)]
    case = _asking(ctx, case_id, "assess")
    if case is not None:
        prompts.assessment(data, case)
    on, who = _when_and_who(ctx)
    step = run_step(
        ctx,
        case_id,
        lambda case, draft: assess_step(case, draft, on=on, by=who),
        drop_empty(data),
        options={
            "health_status": "--health-status",
            "diagnoses": "--diagnosis",
            "medications": "--medication",
            "vitals": "vitals (--height-cm … --diastolic)",
            "utilisation": "--ed-visits/--admissions/--missed-appointments",
            "social_needs": "--social-need",
            "caregiving": "--caregiver-strain",
            "functional_impact": "--impact",
            "insurance": "--insurance",
            "medication_adherence": "--adherence",
            "hba1c_percent": "--hba1c",
            "immunisations": "--immunisations",
            "school_plan": "--school-plan",
        },
        command="assess",
    )
    record, case = step.record, step.case
    say_step(step)
    if record.vitals is not None:
        from casectl.cli.render import vitals_lines

        for line in vitals_lines(case.client, record.date, record.vitals):
            echo_ok("  " + line)
    _say_safety(step)
    echo_ok(f"next: casectl risk {case.id}")


@app.command()
def risk(
    ctx: typer.Context,
    case_id: str = CaseArg,
    override: str | None = typer.Option(
        None,
        "--override",
        help="A clinician's level (low, moderate, high), kept beside the computed one.",
    ),
    reason: str | None = typer.Option(
        None, "--reason", help="Why the override (required with --override)."
    ),
    explain: bool = typer.Option(
        False, "--explain", help="Print the reasoning of the latest risk record; record nothing."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Compute and print the tier without recording it."
    ),
    fmt: str = typer.Option("text", "--format", "-f", help="text, or json (the risk record)."),
    date: str | None = Date,
    by: str | None = By,
    note: str | None = Note,
) -> None:
    """Compute the risk tier (low, moderate, high) from the assessment, factor by factor, and record it.

    Example: casectl risk C-2026-0001    then, if a clinician disagrees:
    casectl risk C-2026-0001 --override high --reason "new seizure activity reported by neurology"
    """
    from casectl.cli.common import save_step
    from casectl.cli.render import render_risk
    from casectl.errors import StageOrderError
    from casectl.models.records import RiskOverride
    from casectl.stages.risk import risk as risk_step

    if fmt not in ("text", "json"):
        raise InvalidInput(f"--format {fmt!r}: risk prints text or json.")

    def show(record: Any) -> None:
        if fmt == "json":
            from casectl.cli.output import emit_json

            data = record.model_dump(mode="json", exclude_none=True)
            emit_json({**data, "effective_level": record.effective_level})
        else:
            render_risk(console(), record)

    cases = store(ctx)
    if explain:
        current = cases.peek(case_id).current_risk
        if current is None:
            raise StageOrderError(
                f"case {case_id} has no risk record yet; run `casectl risk {case_id}`."
            )
        show(current)
        return
    on = when(date)
    who = recorder(cases, by)
    if (override is None) != (reason is None):
        from casectl.cli import common

        if not common.stdin_is_tty():
            raise InvalidInput(
                "--override and --reason go together: a clinician's level needs its reason."
            )
        computed = risk_step(cases.peek(case_id), cases.config, on=on, by=who).record
        override, reason = prompts.risk_override(override, reason, computed.level)
    overriding = (
        build_record(
            RiskOverride,
            {"level": override, "reason": reason},
            options={"level": "--override"},
            command="risk",
        )
        if override
        else None
    )

    def make(case: Any) -> Any:
        return risk_step(case, cases.config, on=on, by=who, override=overriding, note=note)

    step = make(cases.peek(case_id)) if dry_run else save_step(ctx, case_id, make)
    show(step.record)
    if dry_run and fmt == "text":
        echo_ok("(dry run: nothing recorded)")
    elif fmt == "text":
        echo_ok(f"next: casectl plan {step.case.id}")


@app.command()
def plan(
    ctx: typer.Context,
    case_id: str = CaseArg,
    goals: list[str] | None = typer.Option(
        None,
        "--goal",
        help='"Description; domain=health; measure=…; target=…; by=YYYY-MM-DD; baseline=…; id=g1" (repeatable). Given again (same id or description) it updates that goal.',
    ),
    interventions: list[str] | None = typer.Option(
        None,
        "--intervention",
        help='"Description; owner=pcp; goal=g1; due=YYYY-MM-DD or every=weekly" (repeatable).',
    ),
    schedule: list[str] | None = typer.Option(
        None, "--schedule", help='"What; when=every Tuesday; who=pt" (repeatable).'
    ),
    resources: list[str] | None = typer.Option(
        None, "--resource", help="A resource in the plan (repeatable)."
    ),
    review_every: str | None = typer.Option(
        None,
        "--review-every",
        help="Review interval agreed with the family: 30d, 2w, 3m (default: the plan in force's, else the config's interval for the risk tier).",
    ),
    agreed_by: list[str] | None = typer.Option(
        None, "--agreed-by", help="client or family member ids who agreed (repeatable)."
    ),
    family_input: str | None = typer.Option(
        None, "--family-input", help="What the family asked for or chose."
    ),
    discontinue: list[str] | None = typer.Option(
        None,
        "--discontinue",
        help='End a goal or intervention: "g2" with --reason, or "g2; reason=…" (repeatable).',
    ),
    reason: str | None = typer.Option(
        None, "--reason", help="Why the goals or interventions given to --discontinue end."
    ),
    keep_goals: bool = typer.Option(
        True,
        "--keep-goals/--new-goals",
        help="Revise the plan in force (default), or start a new plan from these goals only.",
    ),
    date: str | None = Date,
    by: str | None = By,
    note: str | None = Note,
    from_: str | None = From,
) -> None:
    """Make or revise the care plan: goals with measure and target date, interventions with owners.

    Run again to revise: goals keep their ids, new ones get new ids, --discontinue ends one, and
    the same command twice changes nothing.

    Example: casectl plan C-2026-0001 --goal "No asthma ED visits; domain=health; measure=ED visits per quarter; target=0; by=2027-05-31" --intervention "Asthma action plan review; owner=pcp; goal=g1; every=monthly" --review-every 30d --agreed-by mother
    """
    from casectl.dates import parse_date, parse_duration_days
    from casectl.stages.plan import plan as plan_step

    data = _base(from_, date, by, note)
    for text in goals or []:
        item = parse_spec(text, first="description", option="--goal")
        if "by" in item:
            item["target_date"] = parse_date(item.pop("by"), what="--goal by=")
        data.setdefault("goals", []).append(item)
    for text in interventions or []:
        item = parse_spec(text, first="description", option="--intervention")
        if "every" in item:
            item["frequency"] = item.pop("every")
        if "due" in item:
            item["due"] = parse_date(item["due"], what="--intervention due=")
        data.setdefault("interventions", []).append(item)
    for text in schedule or []:
        data.setdefault("schedule", []).append(parse_spec(text, first="what", option="--schedule"))
    data["resources"] = [*data.get("resources", []), *(resources or [])]
    if review_every:
        data["review_interval_days"] = parse_duration_days(review_every, what="--review-every")
    if agreed_by:
        data["agreed_by"] = split_csv(agreed_by)
    if family_input:
        data["family_input"] = family_input
    ending: list[tuple[str, str]] = []
    for text in discontinue or []:
        item = parse_spec(text, first="id", option="--discontinue")
        why = item.get("reason") or reason
        if not why:
            raise InvalidInput(
                f'--discontinue {item["id"]} needs a reason: --reason "…" or "{item["id"]}; reason=…".'
            )
        ending.append((str(item["id"]), str(why)))
    if reason and not discontinue:
        raise InvalidInput("--reason goes with --discontinue: it says why a goal is ended.")
    cases = store(ctx)
    case = _asking(ctx, case_id, "plan")
    if case is not None:
        prompts.care_plan(data, case, cases.config, fresh=not keep_goals)
    on, who = _when_and_who(ctx)
    step = run_step(
        ctx,
        case_id,
        lambda case, draft: plan_step(
            case, cases.config, draft, on=on, by=who, discontinue=ending, fresh=not keep_goals
        ),
        drop_empty(data),
        options={
            "goals": "--goal",
            "interventions": "--intervention",
            "schedule": "--schedule",
            "review_interval_days": "--review-every",
            "agreed_by": "--agreed-by",
        },
        command="plan",
        questions={"agreed_by": prompts.agreement(case)} if case is not None else None,
    )
    say_step(step, next_command="implement")


@app.command()
def implement(
    ctx: typer.Context,
    case_id: str = CaseArg,
    refer: list[str] | None = typer.Option(
        None, "--refer", help='"Service; reason=…; member=team id; urgent; id=r1" (repeatable).'
    ),
    referral_update: list[str] | None = typer.Option(
        None,
        "--referral-update",
        help='"r1=accepted" — sent, accepted, scheduled, completed, declined, no-response; "r1=scheduled; date=2026-12-02" says for when (repeatable).',
    ),
    appointment: list[str] | None = typer.Option(
        None,
        "--appointment",
        help='"Purpose; date=YYYY-MM-DD; with=team id or name; id=a1" (repeatable).',
    ),
    appointment_update: list[str] | None = typer.Option(
        None,
        "--appointment-update",
        help='"a1=attended" — scheduled, attended, missed, cancelled (repeatable).',
    ),
    intervention_update: list[str] | None = typer.Option(
        None,
        "--intervention-update",
        help='"i1=done; note=…" — in-progress, done, cancelled; a recurring one done falls due again, "i1=done; final" ends it (repeatable).',
    ),
    educate: list[str] | None = typer.Option(
        None, "--educate", help='"Topic; to=mother; materials=…" (repeatable).'
    ),
    resource: list[str] | None = typer.Option(
        None, "--resource", help='"Name; kind=…; contact=…" (repeatable).'
    ),
    date: str | None = Date,
    by: str | None = By,
    note: str | None = Note,
    from_: str | None = From,
) -> None:
    """Coordinate care: referrals and their answers, appointments, interventions done, education, resources.

    Needs only a screening: a same-day crisis referral can come before the plan.

    Example: casectl implement C-2026-0001 --refer "Pulmonology; reason=uncontrolled asthma; member=pulm" --educate "Inhaler technique; to=mother"
             casectl implement C-2026-0001 --referral-update r1=scheduled --intervention-update "i1=done; note=plan reviewed with mother"
    """
    from casectl.dates import parse_date
    from casectl.stages.implement import implement as implement_step

    data = _base(from_, date, by, note)
    for text in refer or []:
        item = parse_spec(text, first="to", option="--refer", flags=("urgent",))
        if item.pop("urgent", False):
            item["urgency"] = "urgent"
        data.setdefault("referrals", []).append(item)
    for text in referral_update or []:
        update = _keyed(text, "referral", "status", "--referral-update")
        if "date" in update:
            update["date"] = parse_date(update["date"], what="--referral-update date=")
        data.setdefault("referral_updates", []).append(update)
    for text in appointment or []:
        item = parse_spec(text, first="purpose", option="--appointment")
        if "date" in item:
            item["date"] = parse_date(item["date"], what="--appointment date=")
        data.setdefault("appointments", []).append(item)
    for text in appointment_update or []:
        data.setdefault("appointment_updates", []).append(
            _keyed(text, "appointment", "status", "--appointment-update")
        )
    for text in intervention_update or []:
        data.setdefault("intervention_updates", []).append(
            _keyed(text, "intervention", "status", "--intervention-update", flags=("final",))
        )
    for text in educate or []:
        item = parse_spec(text, first="topic", option="--educate")
        if "to" in item:
            item["given_to"] = item.pop("to")
        data.setdefault("education", []).append(item)
    for text in resource or []:
        data.setdefault("resources_connected", []).append(
            parse_spec(text, first="name", option="--resource")
        )
    cases = store(ctx)
    case = _asking(ctx, case_id, "implement")
    if case is not None:
        prompts.coordination(data, case, cases.config)
    on, who = _when_and_who(ctx)
    step = run_step(
        ctx,
        case_id,
        lambda case, draft: implement_step(case, cases.config, draft, on=on, by=who),
        drop_empty(data),
        options={
            "referrals": "--refer",
            "referral_updates": "--referral-update",
            "appointments": "--appointment",
            "appointment_updates": "--appointment-update",
            "intervention_updates": "--intervention-update",
            "education": "--educate",
            "resources_connected": "--resource",
        },
        command="implement",
    )
    say_step(step)


def _keyed(
    text: str, key: str, value_key: str, option: str, flags: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Parse `ID=VALUE; key=value …`, e.g. `r1=accepted; note=appointment 3 March`."""
    head, _, rest = text.partition(";")
    handle, sep, value = head.partition("=")
    if not sep or not handle.strip() or not value.strip():
        raise InvalidInput(
            f'{option} {text!r}: write it as "ID={value_key.upper()}", e.g. {option} r1=accepted.'
        )
    item: dict[str, Any] = {key: handle.strip(), value_key: value.strip()}
    if rest.strip():
        item.update(parse_spec("_;" + rest, first="_", option=option, flags=flags))
        item.pop("_", None)
    return item


@app.command("follow-up")
def follow_up(
    ctx: typer.Context,
    case_id: str = CaseArg,
    mode: str | None = typer.Option(
        None,
        "--mode",
        help="phone, video, home-visit, office, clinic, school-visit, hospital-visit, email, text, letter.",
    ),
    with_: list[str] | None = typer.Option(
        None,
        "--with",
        help="Who took part: client, family or care-team ids (repeatable or comma-separated).",
    ),
    outcome: str | None = typer.Option(
        None,
        "--outcome",
        help="reached (default), or no-answer / left-message for an attempt that reached nobody.",
    ),
    summary: str | None = typer.Option(
        None, "--summary", help="What was discussed, in a sentence."
    ),
    progress: list[str] | None = typer.Option(
        None,
        "--progress",
        help='"g1=improving; note=…" — not-started, improving, no-change, worsening, achieved (repeatable).',
    ),
    barriers: list[str] | None = typer.Option(
        None, "--barrier", help="A barrier to the plan (repeatable)."
    ),
    adherence: str | None = typer.Option(
        None, "--adherence", help="good, partial, poor or unknown."
    ),
    plan_change: str | None = typer.Option(
        None, "--plan-change", help="A recommended change to the plan, when it is not working."
    ),
    safety_concern: list[str] | None = typer.Option(
        None,
        "--safety-concern",
        help="A safety concern reported (abuse, neglect, self-harm): a same-day flag (repeatable).",
    ),
    safety_action: str | None = typer.Option(
        None,
        "--safety-action",
        help="What was done about the open safety flags (safety plan, crisis line, report made).",
    ),
    instrument: str | None = Instrument,
    answers: str | None = Answers,
    member: str | None = Member,
    next_review: str | None = typer.Option(
        None, "--next-review", help="Next review date (default: date + the plan's review interval)."
    ),
    date: str | None = Date,
    by: str | None = By,
    note: str | None = Note,
    from_: str | None = From,
) -> None:
    """Record a contact or an attempt: with whom, progress per goal, barriers, safety, next review.

    Needs only a screening (an intake call can come before the plan); progress needs a plan.

    Example: casectl follow-up C-2026-0001 --mode phone --with mother --summary "no night symptoms this month" --progress "g1=improving" --adherence good
             casectl follow-up C-2026-0001 --mode phone --with mother --outcome no-answer
    """
    from casectl.dates import parse_date
    from casectl.stages.follow_up import follow_up as follow_up_step

    data = _base(from_, date, by, note)
    data.update(
        drop_empty(
            {
                "mode": mode,
                "outcome": outcome,
                "summary": summary,
                "adherence": adherence,
                "plan_change": plan_change,
                "safety_action": safety_action,
            }
        )
    )
    if with_:
        data["with"] = split_csv(with_)
    for text in progress or []:
        data.setdefault("progress", []).append(_keyed(text, "goal", "progress", "--progress"))
    data["barriers"] = [*data.get("barriers", []), *(barriers or [])]
    data["safety_concerns"] = [*data.get("safety_concerns", []), *(safety_concern or [])]
    data["instruments"] = [*data.get("instruments", []), *_instrument(instrument, answers, member)]
    if next_review:
        base = data.get("date") or when(None)
        data["next_review"] = parse_date(next_review, what="--next-review", base=base)
    cases = store(ctx)
    case = _asking(ctx, case_id, "follow-up")
    if case is not None:
        prompts.contact(data, case)
    on, who = _when_and_who(ctx)
    step = run_step(
        ctx,
        case_id,
        lambda case, draft: follow_up_step(case, cases.config, draft, on=on, by=who),
        drop_empty(data),
        options={
            "mode": "--mode",
            "with": "--with",
            "summary": "--summary",
            "next_review": "--next-review",
            "progress": "--progress",
            "outcome": "--outcome",
        },
        command="follow-up",
    )
    say_step(step)
    _say_safety(step)


@app.command()
def evaluate(
    ctx: typer.Context,
    case_id: str = CaseArg,
    outcomes: list[str] | None = typer.Option(
        None,
        "--outcome",
        help='"g1=achieved; gas=1" — achieved, partly-achieved, not-achieved; GAS −2…+2 (repeatable).',
    ),
    well_being: str | None = typer.Option(None, "--well-being"),
    health: str | None = typer.Option(None, "--health"),
    financial: str | None = typer.Option(None, "--financial", help="Financial standing."),
    care_appropriate: bool | None = typer.Option(
        None, "--care-appropriate/--care-not-appropriate", help="Was the care received appropriate?"
    ),
    care_note: str | None = typer.Option(
        None, "--care-note", help="Why the care was or was not appropriate."
    ),
    satisfaction: int | None = typer.Option(
        None,
        "--satisfaction",
        help="Family satisfaction, 1 (very dissatisfied) to 5 (very satisfied).",
    ),
    cost: float | None = typer.Option(None, "--cost", help="Cost of care in the period."),
    decision: str | None = typer.Option(None, "--decision", help="continue, transition or close."),
    reason: str | None = typer.Option(None, "--reason", help="Why that decision."),
    to: str | None = typer.Option(
        None, "--to", help="With --decision transition: the service taking over."
    ),
    date: str | None = Date,
    by: str | None = By,
    note: str | None = Note,
    from_: str | None = From,
) -> None:
    """Evaluate outcomes and decide: continue, transition or close.

    Example: casectl evaluate C-2026-0001 --outcome "g1=achieved; gas=1" --care-appropriate --satisfaction 5 --decision close --reason "goals met"
    """
    from casectl.stages.evaluate import evaluate as evaluate_step

    data = _base(from_, date, by, note)
    data.update(
        drop_empty(
            {
                "well_being": well_being,
                "health": health,
                "financial_standing": financial,
                "care_appropriate": care_appropriate,
                "care_appropriate_note": care_note,
                "satisfaction": satisfaction,
                "cost": cost,
                "decision": decision,
                "decision_reason": reason,
                "transition_to": to,
            }
        )
    )
    for text in outcomes or []:
        data.setdefault("goal_outcomes", []).append(_keyed(text, "goal", "outcome", "--outcome"))
    case = _asking(ctx, case_id, "evaluate")
    if case is not None:
        prompts.evaluation(data, case)
    on, who = _when_and_who(ctx)
    step = run_step(
        ctx,
        case_id,
        lambda case, draft: evaluate_step(case, draft, on=on, by=who),
        drop_empty(data),
        options={
            "care_appropriate": "--care-appropriate/--care-not-appropriate",
            "decision": "--decision",
            "decision_reason": "--reason",
            "transition_to": "--to",
            "goal_outcomes": "--outcome",
            "satisfaction": "--satisfaction",
        },
        command="evaluate",
    )
    say_step(step)


def _say_safety(step: Any) -> None:
    """Each instrument's result, then every safety flag this record raised, on standard error."""
    from casectl.state import raised_between

    for inst in getattr(step.record, "instruments", []):
        total = inst.total if inst.total is not None else "—"
        echo_ok(f"  {inst.instrument}: total {total}, {inst.band}")
    raised = raised_between(step.previous, step.case, on=step.record.date)
    if not raised:
        return
    from rich.markup import escape

    for flag in raised:
        console(stderr=True).print(
            f"[bold red]SAME-DAY ACTION:[/bold red] {escape(flag.text)} ({escape(flag.source)}) — "
            f"on today's review until `casectl follow-up {step.case.id} --safety-action …` "
            "records what was done",
            highlight=False,
        )
