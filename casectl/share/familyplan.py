"""The family's care plan: the goals and what success looks like, who does what by when, the
appointments ahead, the care team's contacts, what to do if things get worse, the next review.

It is written for the family in their language (`i18n.family_language`): every fixed phrase is
translated and every date and list is formatted for that language, while what the case manager
wrote (a goal, a target, the family's own words) is shown as written. A de-identified plan keeps
the structure and leaves out names, contacts and free text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from casectl.config import Config
from casectl.dates import completed_years
from casectl.models.case import Case
from casectl.models.people import CareTeamMember
from casectl.models.records import CarePlan
from casectl.share.document import (
    Block,
    Document,
    Heading,
    Items,
    Line,
    Notice,
    Paragraph,
    Span,
    line,
)
from casectl.share.i18n import ADULT_AGE, N_, Language
from casectl.share.redaction import IDENTIFIED, Redaction
from casectl.state import CaseState, derive

# Labels for casectl's vocabularies, in plain words; a test checks every value has one.
ROLE = {
    "case-manager": N_("case manager"),
    "primary-care": N_("primary care"),
    "specialist": N_("specialist"),
    "nursing": N_("nursing"),
    "therapist": N_("therapist"),
    "mental-health": N_("mental health"),
    "hospital": N_("hospital"),
    "home-health": N_("home health"),
    "pharmacy": N_("pharmacy"),
    "school": N_("school"),
    "early-intervention": N_("early intervention"),
    "insurer": N_("health plan"),
    "social-services": N_("social services"),
    "community-organisation": N_("community organisation"),
    "employer": N_("employer"),
    "legal": N_("legal help"),
    "other": N_("care team"),
}
GOAL_STATUS = {
    "not-started": N_("not started yet"),
    "in-progress": N_("in progress"),
    "achieved": N_("reached"),
    "partly-achieved": N_("partly reached"),
    "not-achieved": N_("not reached"),
    "discontinued": N_("stopped"),
}
PROGRESS = {
    "not-started": N_("not started yet"),
    "improving": N_("getting better"),
    "no-change": N_("no change yet"),
    "worsening": N_("getting worse"),
    "achieved": N_("reached"),
}
INTERVENTION_STATUS = {
    "planned": N_("planned"),
    "in-progress": N_("under way"),
    "done": N_("done"),
    "cancelled": N_("cancelled"),
}
REFERRAL_STATUS = {
    "sent": N_("request sent"),
    "accepted": N_("accepted"),
    "scheduled": N_("first visit booked"),
    "no-response": N_("waiting for an answer"),
    "completed": N_("completed"),
    "declined": N_("declined"),
}
GOAL_DOMAIN = {
    "health": N_("health"),
    "self-care": N_("self-care"),
    "development": N_("development"),
    "education": N_("school and learning"),
    "mental-health": N_("mental health"),
    "social": N_("friends and community"),
    "family": N_("family"),
    "financial": N_("money"),
    "housing": N_("housing"),
    "employment": N_("work"),
    "other": N_("other"),
}
# Relationships are free text; the common ones, written exactly so, are translated.
RELATIONSHIP = {
    "mother": N_("mother"),
    "father": N_("father"),
    "parent": N_("parent"),
    "stepmother": N_("stepmother"),
    "stepfather": N_("stepfather"),
    "foster mother": N_("foster mother"),
    "foster father": N_("foster father"),
    "grandmother": N_("grandmother"),
    "grandfather": N_("grandfather"),
    "maternal grandmother": N_("maternal grandmother"),
    "maternal grandfather": N_("maternal grandfather"),
    "paternal grandmother": N_("paternal grandmother"),
    "paternal grandfather": N_("paternal grandfather"),
    "sister": N_("sister"),
    "brother": N_("brother"),
    "aunt": N_("aunt"),
    "uncle": N_("uncle"),
    "husband": N_("husband"),
    "wife": N_("wife"),
    "partner": N_("partner"),
    "son": N_("son"),
    "daughter": N_("daughter"),
    "guardian": N_("guardian"),
}


class _People:
    """Names the people a plan mentions, as the family knows them."""

    def __init__(self, case: Case, lang: Language, redaction: Redaction, child: bool) -> None:
        self.case = case
        self._ = lang._
        self.r = redaction
        self.child = child
        self.family = {m.id: m for m in case.family}
        self.team = {m.id: m for m in case.care_team}

    def relationship(self, text: str) -> str:
        known = RELATIONSHIP.get(text.strip().lower())
        return self._(known) if known else text

    def role(self, member: CareTeamMember) -> str:
        return self._(ROLE[member.role])

    def name(self, handle: str) -> str | None:
        """The person's name alone (None when de-identified or unknown)."""
        if handle == "client":
            return self.r.text(self.case.client.name)
        if handle in self.family:
            return self.r.text(self.family[handle].name)
        if handle in self.team:
            return self.r.text(self.team[handle].name)
        if handle == "case-manager":
            return self.r.text(self.case.case_manager)
        return self.r.text(handle)

    def label(self, handle: str) -> str:
        """Who someone is: the name and, in brackets, their part (only the part when de-identified)."""
        if handle == "client":
            fallback = self._("your child") if self.child else self._("you")
            return self.r.text(self.case.client.name) or fallback
        if handle in self.family:
            relative = self.family[handle]
            part = self.r.text(self.relationship(relative.relationship)) or self._("family member")
            return _with_part(self.r.text(relative.name), part)
        if handle in self.team:
            member = self.team[handle]
            return _with_part(self.r.text(member.name), self.role(member))
        if handle == "case-manager":
            return _with_part(self.r.text(self.case.case_manager), self._("case manager"))
        return self.r.text(handle) or ""


def _with_part(name: str | None, part: str) -> str:
    return f"{name} ({part})" if name else part


def _labelled(label: str, value: str | None) -> Line:
    return line(Span(label, strong=True), " ", value or "")


def family_plan(
    case: Case,
    config: Config,
    *,
    today: dt.date,
    lang: Language,
    redaction: Redaction = IDENTIFIED,
) -> Document:
    """The family's care plan for `case` as of `today`, in `lang`."""
    _ = lang._
    child = completed_years(case.client.dob, today) < ADULT_AGE
    people = _People(case, lang, redaction, child)
    name = redaction.text(case.client.name)
    title = _("Care plan for {name}").format(name=name) if name else _("Care plan")
    state = derive(case, on=today)
    plan = state.plan
    blocks: list[Block] = []
    blocks += _introduction(case, plan, today, lang, redaction, people)
    blocks += _goals(state, lang, redaction)
    blocks += _tasks(state, lang, redaction, people)
    blocks += _appointments(state, today, lang, redaction, people)
    blocks += _referrals(state, lang, redaction, people)
    blocks += _care_team(case, lang, redaction, people)
    blocks += _if_worse(case, lang, redaction, child)
    blocks += _next_review(state, lang)
    blocks.append(
        Paragraph(line(_("Keep this plan where you can find it, and bring it to appointments.")))
    )
    return Document(
        title=title, lang=lang.tag, blocks=tuple(blocks), right_to_left=lang.right_to_left
    )


def _introduction(
    case: Case,
    plan: CarePlan | None,
    today: dt.date,
    lang: Language,
    redaction: Redaction,
    people: _People,
) -> list[Block]:
    _ = lang._
    blocks: list[Block] = []
    if plan is None:
        blocks.append(
            Paragraph(
                line(
                    _("Your care plan is not written yet. Your case manager will make it with you.")
                )
            )
        )
    else:
        agreed = [n for n in (people.name(h) for h in plan.agreed_by) if n]
        made = (
            _("Made together with {people} on {date}.").format(
                people=lang.join(agreed), date=lang.date(plan.date)
            )
            if agreed
            else _("Made together with the family on {date}.").format(date=lang.date(plan.date))
        )
        blocks.append(Paragraph(line(made)))
        words = redaction.text(plan.family_input)
        if words:
            blocks.append(Paragraph(_labelled(_("What you told us:"), words)))
    blocks.append(Paragraph(line(_("This copy was made on {date}.").format(date=lang.date(today)))))
    return blocks


def _goals(state: CaseState, lang: Language, redaction: Redaction) -> list[Block]:
    if state.plan is None:
        return []
    _ = lang._
    items: list[tuple[Line, ...]] = []
    for n, standing in enumerate(state.goals, start=1):
        goal = standing.goal
        description = redaction.text(goal.description) or _("Goal {number}: {area}").format(
            number=lang.number(n), area=_(GOAL_DOMAIN[goal.domain])
        )
        lines = [line(Span(description, strong=True))]
        target = redaction.text(goal.target)
        by = lang.date(goal.target_date)
        if target:
            lines.append(
                _labelled(
                    _("What success looks like:"),
                    _("{target}, by {date}").format(target=target, date=by),
                )
            )
        else:
            lines.append(_labelled(_("Target date:"), by))
        measure = redaction.text(goal.measure)
        if measure:
            lines.append(_labelled(_("How we will know:"), measure))
        baseline = redaction.text(goal.baseline)
        if baseline:
            lines.append(_labelled(_("Where we started:"), baseline))
        now = _(GOAL_STATUS[standing.status])
        progress = standing.progress
        if progress and standing.status in ("not-started", "in-progress"):
            now = _("{status}; latest news: {progress}").format(
                status=now, progress=_(PROGRESS[progress])
            )
        lines.append(_labelled(_("Where we are now:"), now))
        items.append(tuple(lines))
    return [Heading(_("Our goals")), Items(tuple(items))]


def _tasks(state: CaseState, lang: Language, redaction: Redaction, people: _People) -> list[Block]:
    plan = state.plan
    if plan is None:
        return []
    _ = lang._
    blocks: list[Block] = [Heading(_("Who does what, and when"))]
    open_items = [s for s in state.interventions if s.open]
    items: list[tuple[Line, ...]] = []
    for n, standing in enumerate(open_items, start=1):
        item = standing.intervention
        what = redaction.text(item.description) or _("Task {number}").format(number=lang.number(n))
        due = standing.next_due
        when = _("by {date}").format(date=lang.date(due)) if due else None
        often = redaction.text(item.frequency)
        if often:
            when = f"{often}; {when}" if when else often
        lines = [line(Span(what, strong=True)), _labelled(_("Who:"), people.label(item.owner))]
        if when:
            lines.append(_labelled(_("When:"), when))
        lines.append(_labelled(_("Status:"), _(INTERVENTION_STATUS[standing.status])))
        items.append(tuple(lines))
    if items:
        blocks.append(Items(tuple(items)))
    else:
        blocks.append(Paragraph(line(_("Nothing is waiting to be done right now."))))
    if plan.schedule and not redaction.deidentified:
        visits = [
            tuple(
                [line(Span(slot.what, strong=True)), _labelled(_("When:"), slot.when)]
                + ([_labelled(_("Who:"), people.label(slot.who))] if slot.who else [])
            )
            for slot in plan.schedule
        ]
        blocks += [Heading(_("Regular visits and sessions"), 3), Items(tuple(visits))]
    done = [s.intervention.description for s in state.interventions if s.status == "done"]
    if done and not redaction.deidentified:
        blocks += [Heading(_("Already done"), 3), Items(tuple((line(d),) for d in done))]
    if plan.resources and not redaction.deidentified:
        blocks += [
            Heading(_("Help for your family"), 3),
            Items(tuple((line(r),) for r in plan.resources)),
        ]
    return blocks


def _appointments(
    state: CaseState, today: dt.date, lang: Language, redaction: Redaction, people: _People
) -> list[Block]:
    _ = lang._
    upcoming = sorted(
        (
            a.appointment
            for a in state.appointments
            if a.status == "scheduled" and a.appointment.date >= today
        ),
        key=lambda a: a.date,
    )
    blocks: list[Block] = [Heading(_("Upcoming appointments"))]
    if not upcoming:
        return [*blocks, Paragraph(line(_("No appointments are booked right now.")))]
    items: list[tuple[Line, ...]] = []
    for appt in upcoming:
        purpose = redaction.text(appt.purpose)
        first = line(
            Span(lang.date(appt.date, weekday=True), strong=True), f": {purpose}" if purpose else ""
        )
        with_whom = people.label(appt.with_)
        items.append((first, _labelled(_("With:"), with_whom)) if with_whom else (first,))
    return [*blocks, Items(tuple(items))]


def _referrals(
    state: CaseState, lang: Language, redaction: Redaction, people: _People
) -> list[Block]:
    _ = lang._
    waiting = [(r.referral, r.status) for r in state.open_referrals]
    if not waiting:
        return []
    items: list[tuple[Line, ...]] = []
    for ref, status in waiting:
        service = redaction.text(ref.to) or (
            people.label(ref.member) if ref.member else _("a service")
        )
        lines = [line(Span(service, strong=True))]
        reason = redaction.text(ref.reason)
        if reason:
            lines.append(_labelled(_("Why:"), reason))
        lines.append(_labelled(_("Where it stands:"), _(REFERRAL_STATUS[status])))
        items.append(tuple(lines))
    return [Heading(_("Services we have asked to help")), Items(tuple(items))]


def _contact_lines(member: CareTeamMember, lang: Language, redaction: Redaction) -> list[Line]:
    _ = lang._
    contact = member.contact
    if contact is None or redaction.deidentified:
        return []
    found = [
        (_("Phone:"), contact.phone),
        (_("Email:"), contact.email),
        (_("Address:"), contact.address),
    ]
    return [_labelled(label, value) for label, value in found if value]


def _care_team(case: Case, lang: Language, redaction: Redaction, people: _People) -> list[Block]:
    _ = lang._
    items: list[tuple[Line, ...]] = []
    if not any(m.role == "case-manager" for m in case.care_team):
        manager = redaction.text(case.case_manager)
        items.append(
            (
                line(Span(manager, strong=True), " — ", _("case manager"))
                if manager
                else line(Span(_("case manager"), strong=True)),
            )
        )
    for member in case.care_team:
        name = redaction.text(member.name)
        part = people.role(member)
        organisation = redaction.text(member.organisation)
        if organisation:
            part = f"{part}, {organisation}"
        first = (
            line(Span(name, strong=True), " — ", part) if name else line(Span(part, strong=True))
        )
        items.append((first, *_contact_lines(member, lang, redaction)))
    return [Heading(_("Your care team")), Items(tuple(items))]


def _reach(members: Sequence[CareTeamMember], redaction: Redaction) -> str | None:
    """`Name, organisation — phone` for each member, or None when nothing may be shown."""
    shown = []
    for m in members:
        name = redaction.text(m.name)
        if not name:
            continue
        text = f"{name}, {m.organisation}" if m.organisation else name
        phone = m.contact.phone if m.contact else None
        shown.append(f"{text} — {phone}" if phone else text)
    return "; ".join(shown) or None


def _if_worse(case: Case, lang: Language, redaction: Redaction, child: bool) -> list[Block]:
    _ = lang._
    emergency = (
        _(
            "Call 911 (or your local emergency number) now if your child has trouble breathing, "
            "turns blue or grey, cannot be woken, has a seizure, or you think their life is in danger."
        )
        if child
        else _(
            "Call 911 (or your local emergency number) now for trouble breathing, chest pain, "
            "sudden weakness or trouble speaking, a seizure, someone who cannot be woken, or any "
            "danger to life."
        )
    )
    lines = (
        line(Span(emergency, strong=True)),
        line(
            _(
                "If someone may hurt themselves or others, call or text 988 (Suicide & Crisis Lifeline) or call 911."
            )
        ),
        line(
            _(
                "If you are worried but it is not an emergency, call the primary care office. "
                "For questions about this plan, call your case manager."
            )
        ),
    )
    primary = [m for m in case.care_team if m.role == "primary-care"]
    managers = [m for m in case.care_team if m.role == "case-manager"]
    manager = _reach(managers, redaction) or redaction.text(case.case_manager)
    contacts = [
        (
            _labelled(
                _("Primary care:"),
                _reach(primary, redaction) or _("ask your case manager for the number"),
            ),
        ),
        (_labelled(_("Your case manager:"), manager or _("see your care team above")),),
    ]
    if redaction.deidentified:
        return [Heading(_("If things get worse")), Notice(lines)]
    return [Heading(_("If things get worse")), Notice(lines), Items(tuple(contacts))]


def _next_review(state: CaseState, lang: Language) -> list[Block]:
    _ = lang._
    case = state.case
    review = state.next_review
    if review is not None:
        text = _("We will look at this plan together again by {date}.").format(
            date=lang.date(review)
        )
    elif case.is_closed:
        text = _("This case is closed, so no review is planned.")
    else:
        text = _("Your case manager will set a date to look at this plan together again.")
    return [Heading(_("Next review")), Paragraph(line(text))]
