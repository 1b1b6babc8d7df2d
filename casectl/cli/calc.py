"""`casectl calc`: blood pressure, growth and instrument scores without a case."""

from __future__ import annotations

import typer

from casectl.cli.app import commands as app
from casectl.cli.output import console, emit_json
from casectl.errors import InvalidInput

calc_app = typer.Typer(
    help="Clinical calculators: blood pressure, growth, instrument scores.", no_args_is_help=True
)
app.add_typer(calc_app, name="calc")

FormatOpt = typer.Option("text", "--format", "-f", help="text or json.")


def _fmt(fmt: str) -> str:
    if fmt not in ("text", "json"):
        raise InvalidInput(f"--format {fmt!r}: calc prints text or json.")
    return fmt


@calc_app.command("bp")
def calc_bp(
    age: float = typer.Option(..., "--age", help="Age in years (decimals allowed: 7.5)."),
    sex: str = typer.Option(..., "--sex", help="female or male."),
    height_cm: float | None = typer.Option(
        None, "--height-cm", help="Height in cm (needed under 13)."
    ),
    systolic: int = typer.Option(..., "--systolic"),
    diastolic: int = typer.Option(..., "--diastolic"),
    fmt: str = FormatOpt,
) -> None:
    """Classify one blood-pressure reading (AAP 2017 for ages 1–17, ACC/AHA 2017 for adults).

    Example: casectl calc bp --age 10 --sex male --height-cm 141.3 --systolic 118 --diastolic 70
    """
    from casectl.clinical.bp import classify_bp
    from casectl.clinical.errors import ClinicalInputError

    try:
        result = classify_bp(age, sex, height_cm, systolic, diastolic)
    except ClinicalInputError as exc:
        raise InvalidInput(str(exc).rstrip(".") + ".") from None
    if _fmt(fmt) == "json":
        emit_json(result.to_dict())
        return
    out = console()
    out.print(
        f"Category: {result.category} (systolic {result.systolic_category}, diastolic {result.diastolic_category})"
    )
    column = (
        f"; height column: {result.height_percentile}th percentile"
        if result.height_percentile
        else ""
    )
    out.print(f"Method: {result.method}; age {result.age_years} y{column}")
    for measure, starts in result.thresholds.items():
        out.print(f"  {measure}: " + ", ".join(f"{k} from {v}" for k, v in starts.items()))
    out.print(result.note)


@calc_app.command("growth")
def calc_growth(
    age: float | None = typer.Option(
        None, "--age", help="Age in years (decimals allowed), 0 to 20."
    ),
    age_months: float | None = typer.Option(
        None, "--age-months", help="Age in months, instead of --age (under 2: WHO 2006)."
    ),
    sex: str = typer.Option(..., "--sex", help="female or male."),
    height_cm: float | None = typer.Option(
        None, "--height-cm", help="Height, or under 2 the recumbent length, in cm."
    ),
    weight_kg: float | None = typer.Option(None, "--weight-kg"),
    gestational_age: float | None = typer.Option(
        None,
        "--gestational-age",
        help="Weeks of gestation at birth: under 37, the WHO charts are read at the corrected age.",
    ),
    fmt: str = FormatOpt,
) -> None:
    """Growth percentiles: WHO 2006 under 2 years (as CDC recommends), CDC 2000 from 2 to 20.

    Example: casectl calc growth --age 8.5 --sex female --height-cm 128 --weight-kg 31
    Example: casectl calc growth --age-months 7 --sex male --height-cm 66 --weight-kg 7.4 --gestational-age 32
    """
    from casectl.clinical.corrected_age import DAYS_PER_MONTH
    from casectl.clinical.errors import ClinicalInputError
    from casectl.clinical.growth import growth
    from casectl.clinical.who_growth import who_growth

    if (age is None) == (age_months is None):
        raise InvalidInput("Give the age as --age YEARS or --age-months MONTHS (one of them).")
    years = age if age is not None else (age_months or 0) / 12
    data: dict[str, object]
    try:
        if 0 <= years < 2:
            days = (age_months if age_months is not None else years * 12) * DAYS_PER_MONTH
            data = who_growth(
                days, sex, height_cm, weight_kg, gestational_age_weeks=gestational_age
            ).to_dict()
        else:
            data = growth(years, sex, height_cm, weight_kg).to_dict()
    except ClinicalInputError as exc:
        raise InvalidInput(str(exc).rstrip(".") + ".") from None
    if _fmt(fmt) == "json":
        emit_json(data)
        return
    out = console()
    for key, value in data.items():
        if value is not None:
            out.print(f"{key.replace('_', ' ')}: {value}")


@calc_app.command("score")
def calc_score(
    name: str = typer.Argument(
        ...,
        help="phq-9, phq-a, gad-7, psc-17, hunger-vital-sign, ahc-hrsn, gas, m-chat-r, act, c-act.",
    ),
    answers: str = typer.Option(
        ..., "--answers", help="Comma-separated answers; blank for unanswered (PSC-17)."
    ),
    weights: str | None = typer.Option(
        None, "--weights", help="GAS only: comma-separated goal weights."
    ),
    age: float | None = typer.Option(
        None,
        "--age",
        help="The person's age in years: refused outside the instrument's validated ages.",
    ),
    fmt: str = FormatOpt,
) -> None:
    """Score an instrument without a case: total, band (published names), flags, subscales.

    Example: casectl calc score phq-9 --answers 1,1,2,1,0,1,2,1,0 --age 15 --format json
    """
    from casectl.stages.instruments import check_age, parse_answers, score_answers

    if age is not None:
        check_age(name, age)

    weight_values = None
    if weights:
        try:
            weight_values = [float(w) for w in weights.split(",")]
        except ValueError:
            raise InvalidInput("--weights must be numbers separated by commas.") from None
    result = score_answers(name, parse_answers(answers), weight_values)
    data = result.to_dict()
    if _fmt(fmt) == "json":
        emit_json(data)
        return
    out = console()
    total = f"total {result.total}, " if result.total is not None else ""
    t = f"T = {data['t_score']}, " if result.t_score is not None else ""
    out.print(f"{result.instrument}: {total}{t}{result.band}")
    for sub, value in result.subscales.items():
        out.print(f"  {sub}: {value}")
    if result.positive_domains:
        out.print("  positive: " + ", ".join(result.positive_domains))
    for flag in result.flags:
        out.print(f"[bold red]SAME-DAY ACTION: {flag}[/]")
