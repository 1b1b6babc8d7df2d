"""`casectl export --format markdown|html`: the family's care plan, in the family's language."""

from __future__ import annotations

import json
import re
import shutil
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casectl.errors import ExitStatus
from casectl.share.document import escape_markdown
from tests.conftest import Cli, open_case, planned_case

ROOT = Path(__file__).resolve().parents[1]
CASELOAD = ROOT / "examples" / "caseload"
EXAMPLES = sorted(p.stem for p in CASELOAD.glob("*.yaml"))
IDENTIFIES = "this export identifies the client"

# Fixed text that is on every plan, in English and as the Spanish catalog has it.
ALWAYS = {
    "Your care team": "Su equipo de atención",
    "If things get worse": "Si las cosas empeoran",
    "Next review": "Próxima revisión",
    "Upcoming appointments": "Próximas citas",
    "Keep this plan where you can find it": "Guarde este plan en un lugar donde pueda encontrarlo",
}
# ... and on every plan that has a care plan record.
WITH_PLAN = {
    "Our goals": "Nuestros objetivos",
    "Who does what, and when": "Quién hace qué, y cuándo",
    "Where we are now:": "Dónde estamos ahora:",
}


@pytest.fixture
def examples(tmp_path: Path) -> Cli:
    """A copy of the example caseload: the examples themselves are never written to."""
    if not EXAMPLES:
        pytest.skip("the example caseload has no cases yet")
    data = tmp_path / "caseload"
    shutil.copytree(CASELOAD, data)
    return Cli(data)


def _has_plan(case_id: str) -> bool:
    return "care_plans:\n  - " in (CASELOAD / f"{case_id}.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", ["markdown", "html"])
@pytest.mark.parametrize("case_id", EXAMPLES)
def test_every_example_case_renders_in_english_and_in_spanish(
    examples: Cli, case_id: str, fmt: str
) -> None:
    english = examples("export", case_id, "--format", fmt, "--lang", "en")
    spanish = examples("export", case_id, "--format", fmt, "--lang", "es")
    fixed = {**ALWAYS, **(WITH_PLAN if _has_plan(case_id) else {})}
    for en, es in fixed.items():
        assert en in english.stdout
        assert es in spanish.stdout and en not in spanish.stdout, en
    assert IDENTIFIES in english.stderr and IDENTIFIES in spanish.stderr
    if fmt == "html":
        assert '<html lang="es">' in spanish.stdout and '<html lang="en">' in english.stdout


def test_the_plan_says_what_the_family_needs_to_know(cli: Cli) -> None:
    case = planned_case(cli)
    cli(
        "team",
        case,
        "--id",
        "cm",
        "--name",
        "J. Rivera",
        "--role",
        "case-manager",
        "--phone",
        "555-0100",
    )
    cli(
        "team",
        case,
        "--id",
        "clinic",
        "--name",
        "Eastside Pediatrics",
        "--role",
        "other",
        "--phone",
        "555-0199",
    )
    cli(
        "implement",
        case,
        "--appointment",
        "Asthma follow-up; date=2026-12-09; with=pcp",
        "--refer",
        "Tenant legal aid; reason=mold repair request",
    )
    cli(
        "follow-up",
        case,
        "--mode",
        "phone",
        "--with",
        "mother",
        "--summary",
        "spacer use better",
        "--progress",
        "g1=improving",
        "--next-review",
        "2026-12-20",
    )
    plan = cli("export", case, "--lang", "en").stdout
    assert "# Care plan for Mia Santos" in plan
    assert "Made together with Rosa Santos on September 15, 2026." in plan
    assert "**No ED visits**" in plan
    assert "**What success looks like:** 0, by May 31, 2027" in plan
    assert "**Where we are now:** in progress; latest news: getting better" in plan
    assert "**Who:** Dr. Ana Ruiz (primary care)" in plan and "**When:** monthly" in plan
    assert "**Wednesday, December 9, 2026**: Asthma follow-up" in plan
    assert "**With:** Dr. Ana Ruiz (primary care)" in plan
    assert "**Tenant legal aid**" in plan and "request sent" in plan
    assert "Call 911" in plan and "your child" in plan
    assert "**Primary care:** Dr. Ana Ruiz" in plan
    assert "**Your case manager:** J. Rivera — 555-0100" in plan
    assert "We will look at this plan together again by December 20, 2026." in plan

    spanish = cli("export", case, "--lang", "es").stdout
    assert "# Plan de cuidado de Mia Santos" in spanish
    assert "**miércoles, 9 de diciembre de 2026**: Asthma follow-up" in spanish
    assert "Dr. Ana Ruiz (atención primaria)" in spanish
    assert "a más tardar el 20 de diciembre de 2026" in spanish
    assert "su hijo o hija" in spanish


def test_the_language_is_the_deciding_family_members(cli: Cli) -> None:
    case = cli(
        "new", "--name", "Tom Lee", "--dob", "2015-01-01", "--sex", "male", "--language", "en"
    ).stdout.split()[-1]
    assert "# Care plan for Tom Lee" in cli("export", case).stdout
    cli(
        "family",
        case,
        "--id",
        "aunt",
        "--name",
        "Ana Lee",
        "--relationship",
        "aunt",
        "--decision-maker",
        "--language",
        "es",
    )
    # A child with a deciding aunt: the aunt's language.
    assert "# Plan de cuidado de Tom Lee" in cli("export", case).stdout
    cli(
        "family",
        case,
        "--id",
        "dad",
        "--name",
        "Bo Lee",
        "--relationship",
        "father",
        "--guardian",
        "--decision-maker",
        "--language",
        "en",
    )
    # A deciding legal guardian comes first.
    assert "# Care plan for Tom Lee" in cli("export", case).stdout
    # --lang overrides the rule.
    assert "# Plan de cuidado de Tom Lee" in cli("export", case, "--lang", "es").stdout


def test_an_adult_client_gets_the_plan_in_their_own_language(cli: Cli) -> None:
    case = cli(
        "new", "--name", "Rosa Díaz", "--dob", "1960-01-01", "--sex", "female", "--language", "es"
    ).stdout.split()[-1]
    cli(
        "family",
        case,
        "--id",
        "son",
        "--name",
        "Luis Díaz",
        "--relationship",
        "son",
        "--decision-maker",
        "--language",
        "en",
    )
    plan = cli("export", case).stdout
    assert "# Plan de cuidado de Rosa Díaz" in plan
    # The adult safety paragraph, not the child's.
    assert "su hijo o hija" not in plan and "dolor de pecho" in plan


def test_a_language_without_a_catalog_falls_back_to_english_with_a_note(cli: Cli) -> None:
    case = cli(
        "new", "--name", "Minh Tran", "--dob", "2014-05-08", "--sex", "male", "--language", "vi"
    ).stdout.split()[-1]
    result = cli("export", case)
    assert "# Care plan for Minh Tran" in result.stdout
    assert "no Vietnamese (vi) translation" in result.stderr
    assert "es" in result.stderr.split("languages available:")[1]
    forced = cli("export", case, "--lang", "es-MX")
    assert "# Plan de cuidado de Minh Tran" in forced.stdout and "translation" not in forced.stderr


def test_a_malformed_language_code_is_refused(cli: Cli) -> None:
    case = open_case(cli)
    result = cli("export", case, "--lang", "Spanish!", ok=False)
    assert result.exit_code == ExitStatus.INVALID
    assert "--lang" in result.stderr and result.stdout == ""


def test_a_case_without_a_plan_still_gets_its_team_and_safety_information(cli: Cli) -> None:
    case = open_case(cli)
    plan = cli("export", case, "--lang", "en").stdout
    assert "Your care plan is not written yet." in plan
    assert "If things get worse" in plan and "Our goals" not in plan


def _hostile_case(cli: Cli) -> str:
    case = cli(
        "new",
        "--name",
        '<script>alert("x")</script> *Mia* [Ana](evil) & Co',
        "--dob",
        "2016-04-02",
        "--sex",
        "female",
        "--language",
        "en",
    ).stdout.split()[-1]
    cli(
        "family",
        case,
        "--id",
        "mother",
        "--name",
        "Rosa <b>Santos</b>",
        "--relationship",
        "mother",
        "--guardian",
        "--decision-maker",
    )
    cli(
        "screen",
        case,
        "--referral-source",
        "PCP",
        "--referral-reason",
        "asthma",
        "--eligible",
        "--reason",
        "asthma",
    )
    cli("assess", case, "--health-status", "asthma")
    cli("risk", case)
    plan = {
        "goals": [
            {
                "id": "g1",
                "domain": "health",
                "description": "# No ED visits <img src=x onerror=alert(1)>",
                "measure": "1. visits | per _quarter_",
                "target": "`0`",
                "target_date": "2027-05-31",
            }
        ],
        "interventions": [
            {
                "id": "i1",
                "description": "- Review &amp; plan",
                "owner": "mother",
                "frequency": "monthly",
            }
        ],
        "review_interval_days": 30,
        "agreed_by": ["mother"],
    }
    cli("plan", case, "--from", "-", input=json.dumps(plan))
    return case


def test_names_and_free_text_cannot_become_html(cli: Cli) -> None:
    case = _hostile_case(cli)
    page = cli("export", case, "--format", "html").stdout
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; *Mia* [Ana](evil) &amp; Co" in page
    assert "Rosa &lt;b&gt;Santos&lt;/b&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "Review &amp;amp; plan" in page


def test_names_and_free_text_cannot_become_markdown(cli: Cli) -> None:
    case = _hostile_case(cli)
    text = cli("export", case, "--format", "markdown").stdout
    assert r'\<script\>alert("x")\</script\> \*Mia\* \[Ana\](evil) & Co' in text
    assert r"**\# No ED visits \<img src=x onerror=alert(1)\>**" in text
    assert r"1\. visits \| per \_quarter\_" in text and r"\`0\`" in text
    assert r"**\- Review \&amp; plan**" in text
    # Every < is escaped, so no tag or autolink can start.
    assert not re.search(r"(?<!\\)<", text)


@given(st.text())
def test_escaped_markdown_reads_back_as_the_text(text: str) -> None:
    escaped = escape_markdown(text)
    assert "\n" not in escaped and "\r" not in escaped
    assert re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", escaped) == re.sub(r"\s+", " ", text)


@pytest.mark.parametrize("case_id", EXAMPLES[:1] or ["none"])
def test_the_html_file_is_self_contained_and_prints_on_a4_and_letter(
    examples: Cli, case_id: str
) -> None:
    page = examples("export", case_id, "--format", "html").stdout
    for outside in ("http", "src=", "<script", "<link", "url(", "@import", "<iframe"):
        assert outside not in page, outside
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert "@page" in page and "@media print" in page
    # The printer chooses the paper: no page size and nothing of fixed width.
    assert not re.search(r"(?<![-\w])size:", page)
    assert not re.search(r"(?<!max-)width:\s*[\d.]+(px|mm|cm|in|pt)", page)


def test_every_example_html_is_self_contained(examples: Cli) -> None:
    for case_id in EXAMPLES:
        page = examples("export", case_id, "--format", "html", "--lang", "es").stdout
        assert not re.search(r"http|src=|<script|<link|url\(", page), case_id


def test_an_arabic_plan_would_read_right_to_left() -> None:
    from casectl.share.document import Document, Heading, to_html

    page = to_html(Document(title="t", lang="ar", blocks=(Heading("x"),), right_to_left=True))
    assert '<html lang="ar" dir="rtl">' in page


def test_the_plan_can_be_written_to_a_private_file(cli: Cli, tmp_path: Path) -> None:
    case = planned_case(cli)
    out = tmp_path / "plan.html"
    result = cli("export", case, "--format", "html", "-o", str(out))
    assert result.stdout == ""
    assert IDENTIFIES in result.stderr
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    missing = cli("export", case, "-o", str(tmp_path / "no" / "such" / "plan.md"), ok=False)
    assert missing.exit_code == ExitStatus.NOT_FOUND and "no folder" in missing.stderr


def test_export_needs_a_case(cli: Cli) -> None:
    result = cli("export", ok=False)
    assert result.exit_code == ExitStatus.USAGE and "needs a CASE" in result.stderr
    unknown = cli("export", "C-2099-0001", ok=False)
    assert unknown.exit_code == ExitStatus.NOT_FOUND
