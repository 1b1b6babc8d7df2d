"""How well case files merge: casectl's driver against git's line merge and `merge=union`.

    .venv/bin/python tests/bench/merge_bench.py [--pairs 240] [--seed 1] [--sync-cases 10000]

A corpus of divergent-edit pairs: a synthetic caseload (`casectl demo generate`), then for each
pair one case file copied to two "clones", each side given one to four random writes by the
commands case managers run (follow-up, implement with referrals, appointments and their updates,
plan revisions with new goals and interventions, assess, screen, risk, evaluate, family, team,
consent, hold, close, reopen, transfer, a hand edit of the client's phone). Most pairs edit the
same case on both sides; some on one side only (as when two people work on different cases);
about one in eight of the others is contested: both sides also change the client's phone.
Each pair is merged three ways and judged:

- a true conflict is expected when both sides changed the same field to different values, added
  the same family or care-team handle for two different people, or updated one referral so
  that its updates in date order are no possible history (declined on the 17th, accepted on
  the 20th); judged from the three files, without casectl's merge;
- a merge is clean when the method reports no conflict; clean and valid when the result also
  passes `casectl check` (every rule a write obeys);
- a merge is wrong when it reports no conflict but a record is lost or duplicated, a reference
  (an intervention's goal, a progress note's goal, a referral update's referral …) points at
  another record than the one its writer meant, or the file is not a valid case.

Then, with --sync-cases, the time of `casectl sync` in a team folder of that many cases where the
other side changed 100 cases (and this side 100 others, 10 of them the same cases).
Not a test: pytest does not collect it; it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

AS_OF = "2026-11-25"
os.environ["CASECTL_TODAY"] = AS_OF
os.environ.setdefault("CASECTL_USER", "Bench Manager")

from typer.testing import CliRunner  # noqa: E402

from casectl.cli.app import app  # noqa: E402
from casectl.errors import CasectlError  # noqa: E402
from casectl.models.case import Case  # noqa: E402
from casectl.models.validation import CaseInvalid, validate_case  # noqa: E402
from casectl.store import idspace, yamlio  # noqa: E402
from casectl.store.merge import merge_case  # noqa: E402

TODAY = dt.date.fromisoformat(AS_OF)
RUNNER = CliRunner()
Op = Callable[[Case, random.Random, str], list[str] | None]


def casectl(folder: Path, *args: str) -> tuple[int, str]:
    result = RUNNER.invoke(app, ["--data-dir", str(folder), *args])
    return result.exit_code, result.stdout


# --- the writes a case manager makes ---


def _person(case: Case, rng: random.Random) -> str:
    return rng.choice(sorted(case.people()))


# The case as it was before either side wrote: writes that name a goal, referral or appointment
# pick one that existed then, as a colleague's writes would.
BASE: dict[str, Case] = {}


def _goals(case: Case) -> list[str]:
    plan = case.current_plan
    base = BASE[case.id].goal_ids()
    return [g.id for g in plan.goals if g.id in base] if plan else []


def op_follow_up(case: Case, rng: random.Random, day: str) -> list[str] | None:
    args = ["follow-up", case.id, "--mode", rng.choice(["phone", "home-visit", "video"]),
            "--with", _person(case, rng), "--summary", f"contact {rng.randrange(10**6)}",
            "--date", day, "--next-review", "+30d"]  # fmt: skip
    if _goals(case):
        args += ["--progress", f"{rng.choice(_goals(case))}=improving"]
    return args


def op_refer(case: Case, rng: random.Random, day: str) -> list[str]:
    return ["implement", case.id, "--refer", f"Service {rng.randrange(10**5)}; reason=need",
            "--date", day]  # fmt: skip


def op_appointment(case: Case, rng: random.Random, day: str) -> list[str]:
    return ["implement", case.id, "--appointment",
            f"Clinic {rng.randrange(10**5)}; date=2026-12-{rng.randint(1, 28):02d}; "
            f"with={_person(case, rng)}", "--date", day]  # fmt: skip


def op_referral_update(case: Case, rng: random.Random, day: str) -> list[str] | None:
    open_ = [
        rid
        for rid, (_, s, *_) in case.referral_history().items()
        if s not in ("completed", "declined")
    ]
    if not open_:
        return None
    status = rng.choice(["accepted", "scheduled", "completed", "declined"])
    return ["implement", case.id, "--referral-update", f"{rng.choice(open_)}={status}",
            "--date", day]  # fmt: skip


def op_appointment_update(case: Case, rng: random.Random, day: str) -> list[str] | None:
    base = BASE[case.id].appointment_history()
    booked = [
        aid
        for aid, (_, s, *_) in case.appointment_history().items()
        if s == "scheduled" and aid in base
    ]
    if not booked:
        return None
    return ["implement", case.id, "--appointment-update", f"{rng.choice(booked)}=cancelled",
            "--date", day]  # fmt: skip


def op_educate(case: Case, rng: random.Random, day: str) -> list[str]:
    return ["implement", case.id, "--educate", f"Topic {rng.randrange(10**5)}; to={_person(case, rng)}",
            "--date", day]  # fmt: skip


def op_plan(case: Case, rng: random.Random, day: str) -> list[str] | None:
    if not case.risk_assessments:
        return None
    taken = case.goal_ids()
    n = 1
    while f"g{n}" in taken:
        n += 1
    deciders = sorted(case.deciders())
    owner = rng.choice(sorted(case.people()))
    return ["plan", case.id,
            "--goal", f"Goal {rng.randrange(10**5)}; measure=m; target=t; by=2027-06-30",
            "--intervention", f"Step {rng.randrange(10**5)}; owner={owner}; goal=g{n}; every=monthly",
            "--review-every", "30d", "--agreed-by", rng.choice(deciders), "--date", day]  # fmt: skip


def op_assess(case: Case, rng: random.Random, day: str) -> list[str]:
    return ["assess", case.id, "--health-status", f"status {rng.randrange(10**5)}", "--date", day]


def op_screen(case: Case, rng: random.Random, day: str) -> list[str]:
    return ["screen", case.id, "--referral-source", "School", "--referral-reason",
            f"reason {rng.randrange(10**5)}", "--eligible", "--reason", "needs", "--date", day]  # fmt: skip


def op_risk(case: Case, rng: random.Random, day: str) -> list[str]:
    return ["risk", case.id, "--date", day]


def op_evaluate(case: Case, rng: random.Random, day: str) -> list[str] | None:
    if not _goals(case):
        return None
    return ["evaluate", case.id, "--outcome", f"{rng.choice(_goals(case))}=partly-achieved",
            "--care-appropriate", "--decision", "continue", "--reason", "keep going",
            "--date", day]  # fmt: skip


def op_family(case: Case, rng: random.Random, day: str) -> list[str]:
    handle = rng.choice(["aunt", "uncle", "grandma", "grandpa", "sibling", "cousin"])
    return ["family", case.id, "--id", handle, "--name", f"Relative {rng.randrange(10**4)}",
            "--relationship", handle]  # fmt: skip


def op_team(case: Case, rng: random.Random, day: str) -> list[str]:
    handle = rng.choice(["ot", "slp", "dietitian", "nurse", "social-worker"])
    return ["team", case.id, "--id", handle, "--name", f"Clinician {rng.randrange(10**4)}",
            "--role", "therapist"]  # fmt: skip


def op_consent(case: Case, rng: random.Random, day: str) -> list[str]:
    return ["consent", case.id, "--kind", "share-information", "--given-by",
            rng.choice(sorted(case.deciders())), "--date", day]  # fmt: skip


def op_status(case: Case, rng: random.Random, day: str) -> list[str] | None:
    if case.status == "open":
        action = rng.choice(["hold", "close"])
    elif case.status in ("on-hold", "closed"):
        action = "reopen"
    else:
        return None
    return [action, case.id, "--reason", f"{action} {rng.randrange(100)}", "--date", day]


def op_transfer(case: Case, rng: random.Random, day: str) -> list[str] | None:
    if case.is_closed:
        return None
    return ["transfer", case.id, "--to", rng.choice(["Ben Kim", "Cy Diaz"]), "--colleague",
            "--reason", "caseload balance", "--date", day]  # fmt: skip


HAND_EDIT = "hand-edit"
OPS: dict[str, Op] = {
    "follow-up": op_follow_up,
    "refer": op_refer,
    "appointment": op_appointment,
    "referral-update": op_referral_update,
    "appointment-update": op_appointment_update,
    "educate": op_educate,
    "plan": op_plan,
    "assess": op_assess,
    "screen": op_screen,
    "risk": op_risk,
    "evaluate": op_evaluate,
    "family": op_family,
    "team": op_team,
    "consent": op_consent,
    "status": op_status,
    "transfer": op_transfer,
}
WEIGHTS = {
    name: 3 if name in ("follow-up", "refer", "plan", "referral-update") else 1 for name in OPS
}
WEIGHTS[HAND_EDIT] = 1


def write(
    folder: Path, case_id: str, kind: str, seed: int, day: str, given: list[str] | None = None
) -> tuple[int, list[str] | None]:
    """One write on the case in `folder`, chosen from the case as it now is (or the arguments
    `given`); its exit status (-1 when the case offers nothing for it) and its arguments."""
    from casectl.store import CaseStore

    rng = random.Random(seed)
    path = folder / f"{case_id}.yaml"
    if kind == HAND_EDIT:
        phone = f"555-{rng.randrange(10**4):04d}"
        text = path.read_text()
        doc = yamlio.load(text)
        contact = doc.tree["client"].setdefault("contact", {})
        contact["phone"] = phone
        path.write_text(doc.dumps())
        return 0, None
    args = given or OPS[kind](CaseStore(folder).load(case_id).case, rng, day)
    if args is None:
        return -1, None
    return casectl(folder, *args)[0], args


# --- judging a merge ---


def _plain(text: str) -> dict[str, Any]:
    return yamlio.to_plain(yamlio.load(text).tree)  # type: ignore[no-any-return]


def _blank_ids(record: Any, space: idspace.IdSpace) -> Any:
    """A record with its own ids and references blanked: the same record whatever its id."""
    names = {"id"} | {p[-1] for paths in space.referred.values() for p in paths}
    if isinstance(record, dict):
        return {k: ("#" if k in names else _blank_ids(v, space)) for k, v in record.items()}
    if isinstance(record, list):
        return [_blank_ids(v, space) for v in record]
    return record


def _sig(record: Any, space: idspace.IdSpace) -> str:
    return json.dumps(_blank_ids(record, space), sort_keys=True, default=str)


def _sections(data: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        k: v for k, v in data.items() if isinstance(v, list) and all(isinstance(x, dict) for x in v)
    }


def _references(data: dict[str, Any], space: idspace.IdSpace) -> set[tuple[str, str, str]]:
    """(record, field, what it points at) for every reference, by content, not by id."""
    found: set[tuple[str, str, str]] = set()
    for kind, paths in space.referred.items():
        targets = {i: _sig(r, space) for i, r in idspace.defined_ids(data, kind, space).items()}
        for path in paths:
            for container, key in idspace._at(data, path):
                value = container[key]
                if value is not None:
                    found.add((_sig(container, space), key, targets.get(value, "dangling")))
    return found


def wrong(base: str, ours: str, theirs: str, merged: str) -> str | None:
    """Why a merge that reported no conflict is wrong, or None when it is right."""
    space = idspace.id_space()
    try:
        data = _plain(merged)
    except yamlio.YamlProblem:
        return "not YAML"
    try:
        validate_case(data, today=TODAY)
    except CaseInvalid:
        return "not a valid case"
    b, o, t = _plain(base), _plain(ours), _plain(theirs)
    sb, so, st, sm = _sections(b), _sections(o), _sections(t), _sections(data)
    for name in set(so) | set(st) | set(sb):
        base_count = Counter(_sig(r, space) for r in sb.get(name, []))
        added_o = Counter(_sig(r, space) for r in so.get(name, [])) - base_count
        added_t = Counter(_sig(r, space) for r in st.get(name, [])) - base_count
        changed = len(so.get(name, [])) < len(sb.get(name, [])) or len(st.get(name, [])) < len(
            sb.get(name, [])
        )
        if changed:
            continue  # a record removed or edited in place: judged by validity only
        expected = base_count + (added_o | added_t)
        got = Counter(_sig(r, space) for r in sm.get(name, []))
        if got - expected:
            return f"duplicated in {name}"
        if expected - got:
            # A base record edited on one side is a change, not a loss.
            edited = sum((expected - got).values()) == sum((got - expected).values())
            if not edited:
                return f"lost from {name}"
    meant = (_references(o, space) - _references(b, space)) | (
        _references(t, space) - _references(b, space)
    )
    missing = meant - _references(data, space)
    if missing:
        return "a reference points at another record"
    return None


def _flat(node: Any, base: Any, path: str = "") -> dict[str, Any]:
    """Values outside appended records: mappings by key, lists only at the base's positions."""
    out: dict[str, Any] = {}
    if isinstance(node, dict):
        for k, v in node.items():
            out.update(_flat(v, base.get(k) if isinstance(base, dict) else None, f"{path}.{k}"))
    elif isinstance(node, list) and any(isinstance(x, dict) for x in node):
        base = base if isinstance(base, list) else []  # a list the base lacks starts empty
        for i, v in enumerate(node[: len(base)]):
            out.update(_flat(v, base[i], f"{path}[{i}]"))
    else:
        out[path] = json.dumps(node, default=str, sort_keys=True)
    return out


def field_conflict(base: str, ours: str, theirs: str) -> bool:
    b = _plain(base)
    fb, fo, ft = _flat(b, b), _flat(_plain(ours), b), _flat(_plain(theirs), b)
    return any(
        fo.get(k) != fb.get(k) and ft.get(k) != fb.get(k) and fo.get(k) != ft.get(k)
        for k in set(fo) | set(ft)
    )


def git_merge(base: str, ours: str, theirs: str, work: Path, *, union: bool) -> tuple[bool, str]:
    files = []
    for name, text in (("base", base), ("ours", ours), ("theirs", theirs)):
        path = work / f"{name}.yaml"
        path.write_text(text)
        files.append(str(path))
    args = [
        "git",
        "merge-file",
        "-p",
        *(["--union"] if union else []),
        files[1],
        files[0],
        files[2],
    ]
    done = subprocess.run(args, capture_output=True, text=True)
    return done.returncode == 0, done.stdout


# --- the corpus ---


def _new(data: dict[str, Any], base: dict[str, Any], section: str) -> list[Any]:
    return list(data.get(section, []))[len(base.get(section, [])) :]


def _status_disagreement(b: dict[str, Any], o: dict[str, Any], t: dict[str, Any]) -> bool:
    """Both sides updated one referral and the updates, in date order (each side's own order
    kept), are not a possible history: completed on the 3rd, accepted on the 5th."""
    from casectl.models.vocab import CLOSED_REFERRAL, REFERRAL_ORDER

    def records(data: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
        return [
            (str(r["date"]), [(u["referral"], u["status"]) for u in r.get("referral_updates", [])])
            for r in _new(data, b, "coordination")
        ]

    # The README's order: each side's records in its own order, the two sides interleaved by
    # date (a record written later but dated earlier stays after those it followed).
    mine, other = records(o), records(t)
    both = {ref for _, ups in mine for ref, _ in ups} & {ref for _, ups in other for ref, _ in ups}
    if not both:
        return False
    order: list[tuple[str, list[tuple[str, str]]]] = []
    while mine and other:
        order.append(other.pop(0) if other[0][0] < mine[0][0] else mine.pop(0))
    order += mine + other
    merged = [(ref, status) for _, ups in order for ref, status in ups]
    # Where the base leaves each referral, read in file order as `check` reads it.
    before: dict[str, str] = {}
    for record in b.get("coordination", []):
        for made in record.get("referrals", []):
            before[made["id"]] = made.get("status", "sent")
        for update in record.get("referral_updates", []):
            before[update["referral"]] = update["status"]
    for ref in both:
        status = before.get(ref, "sent")
        for _, new in (u for u in merged if u[0] == ref):
            if status in CLOSED_REFERRAL:
                return True
            if (
                new in REFERRAL_ORDER
                and status in REFERRAL_ORDER
                and REFERRAL_ORDER[new] < REFERRAL_ORDER[status]
            ):
                return True
            status = new
    return False


def _one_handle_two_people(b: dict[str, Any], o: dict[str, Any], t: dict[str, Any]) -> bool:
    """The same family or care-team handle added on both sides for different people."""
    for section in ("family", "care_team"):
        mine = {m["id"]: m for m in _new(o, b, section)}
        other = {m["id"]: m for m in _new(t, b, section)}
        if any(mine[k] != other[k] for k in set(mine) & set(other)):
            return True
    return False


def true_conflict(base: str, ours: str, theirs: str) -> str | None:
    """Whether two people really disagree, by the three rules of the README, judged here
    from the three files without casectl's merge: the same field changed differently; one
    handle for two people; one referral given an impossible history."""
    b, o, t = _plain(base), _plain(ours), _plain(theirs)
    if field_conflict(base, ours, theirs):
        return "the same field"
    if _one_handle_two_people(b, o, t):
        return "one handle, two people"
    if _status_disagreement(b, o, t):
        return "a referral's history"
    return None


def corpus(pairs: int, seed: int, work: Path) -> list[dict[str, Any]]:
    base_dir, ours_dir, theirs_dir = (work / n for n in ("base", "ours", "theirs"))
    code, _ = casectl(
        base_dir,
        "demo",
        "generate",
        str(base_dir),
        "--cases",
        "60",
        "--seed",
        str(seed),
        "--as-of",
        AS_OF,
    )
    assert code == 0
    for folder in (ours_dir, theirs_dir):
        casectl(folder, "init")
    from casectl.store import CaseStore

    candidates = [
        c for c in CaseStore(base_dir).case_ids() if CaseStore(base_dir).load(c).case.care_plans
    ]
    rng = random.Random(seed)
    kinds = list(WEIGHTS)
    weights = [WEIGHTS[k] for k in kinds]
    out: list[dict[str, Any]] = []
    while len(out) < pairs:
        case_id = rng.choice(candidates)
        base_text = (base_dir / f"{case_id}.yaml").read_text()
        BASE[case_id] = CaseStore(base_dir).load(case_id).case
        one_side = rng.random() < 0.15
        # Some pairs are contested: both people change the client's phone, each to their own.
        contested = not one_side and rng.random() < 0.12
        plan: dict[str, list[tuple[str, int, str, list[str] | None]]] = {}
        for side, folder in (("ours", ours_dir), ("theirs", theirs_dir)):
            (folder / f"{case_id}.yaml").write_text(base_text)
            writes = [] if one_side and side == "theirs" else [
                (rng.choices(kinds, weights)[0], rng.randrange(10**9),
                 (TODAY - dt.timedelta(days=rng.randint(0, 20))).isoformat())
                for _ in range(rng.randint(1, 4))
            ]  # fmt: skip
            if contested:
                writes.insert(
                    rng.randrange(len(writes) + 1), (HAND_EDIT, rng.randrange(10**9), AS_OF)
                )
            plan[side] = []
            for w in writes:
                code, args = write(folder, case_id, *w)
                if code == 0:
                    plan[side].append((*w, args))
        ours_text = (ours_dir / f"{case_id}.yaml").read_text()
        theirs_text = (theirs_dir / f"{case_id}.yaml").read_text()
        if ours_text == base_text and theirs_text == base_text:
            continue
        out.append(
            {
                "case": case_id,
                "base": base_text,
                "ours": ours_text,
                "theirs": theirs_text,
                "writes": [w[0] for w in plan["ours"] + plan["theirs"]],
                "same_case": not one_side,
                "true_conflict": true_conflict(base_text, ours_text, theirs_text),
            }
        )
    return out


def judge(
    pairs: list[dict[str, Any]], work: Path, dump: Path | None = None
) -> dict[str, Counter[str]]:
    results: dict[str, Counter[str]] = {
        m: Counter() for m in ("casectl", "git default", "merge=union")
    }
    for pair in pairs:
        args = (pair["base"], pair["ours"], pair["theirs"])
        outcomes: dict[str, tuple[bool, str]] = {}
        try:
            merged = merge_case(*args, today=TODAY)
            outcomes["casectl"] = (merged.clean, merged.text)
        except (CasectlError, yamlio.YamlProblem):
            outcomes["casectl"] = (False, "")
        outcomes["git default"] = git_merge(*args, work, union=False)
        outcomes["merge=union"] = git_merge(*args, work, union=True)
        for method, (clean, text) in outcomes.items():
            r = results[method]
            r["pairs"] += 1
            expected = bool(pair["true_conflict"])
            r["true conflicts expected"] += expected
            if not clean:
                r["reported conflict"] += 1
                r["true conflicts detected"] += expected
                r["conflict where none was true"] += not expected
                continue
            why = wrong(*args, text)
            if why is None:
                r["merged cleanly, right"] += 1
                r["clean pairs without a true conflict"] += not expected
            else:
                r["wrong merges"] += 1
                r[f"wrong: {why}"] += 1
            r["true conflicts missed"] += expected
            if expected and method == "casectl":
                r[f"missed: {pair['case']} ({pair['true_conflict']})"] += 1
                if dump is not None:
                    folder = dump / f"{len(list(dump.glob('*')))}-{pair['case']}"
                    folder.mkdir(parents=True)
                    for side in ("base", "ours", "theirs"):
                        (folder / f"{side}.yaml").write_text(pair[side])
                    (folder / "merged.yaml").write_text(text)
    return results


def sync_timing(cases: int, work: Path) -> dict[str, float]:
    """`casectl sync` of a team folder of `cases` cases where the other side changed 100."""
    exe = [sys.executable, "-m", "casectl"]
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GIT_CONFIG_GLOBAL": str(work / "gitconfig"), "GIT_CONFIG_NOSYSTEM": "1"}
    (work / "gitconfig").write_text(
        "[init]\n\tdefaultBranch = main\n[user]\n\tname = Bench\n\temail = b@example.org\n"
    )

    def run(*args: str, folder: Path | None = None) -> str:
        done = subprocess.run(
            [*exe, *(["--data-dir", str(folder)] if folder else []), *args],
            env=env, capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode:
            raise SystemExit(f"casectl {' '.join(args)}: {done.stderr}")
        return done.stdout

    def git(folder: Path, *args: str) -> None:
        subprocess.run(["git", "-C", str(folder), *args], env=env, check=True, capture_output=True)

    remote, mine, other = work / "remote.git", work / "mine", work / "other"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], env=env, check=True)
    run("demo", "generate", str(mine), "--cases", str(cases), "--as-of", AS_OF)
    run("init", "--git", "--id-tag", "ME", folder=mine)
    git(mine, "add", "-A")
    git(mine, "commit", "-q", "-m", "the caseload")
    git(mine, "remote", "add", "origin", str(remote))
    run("sync", folder=mine)
    subprocess.run(["git", "clone", "-q", str(remote), str(other)], env=env, check=True)
    run("git", "setup", "--id-tag", "OT", folder=other)
    ids = run(
        "list", "--status", "open", "--stage", "follow-up", "--format", "ids", folder=mine
    ).split()
    theirs, ours = ids[:100], ids[90:190]  # 10 cases changed on both sides
    for side, chosen in ((other, theirs), (mine, ours)):
        for case_id in chosen:
            run("follow-up", case_id, "--mode", "phone", "--with", "client", "--summary",
                f"from {side.name}", "--date", AS_OF, "--next-review", "+30d", folder=side)  # fmt: skip
    run("sync", folder=other)
    started = time.perf_counter()
    out = subprocess.run([*exe, "--data-dir", str(mine), "sync", "--timing"], env=env,
                         capture_output=True, text=True)  # fmt: skip
    total = time.perf_counter() - started
    if out.returncode:
        raise SystemExit(f"sync failed: {out.stderr}")
    steps = {
        line.split(":")[0]: float(line.split()[1])
        for line in out.stderr.splitlines()
        if line.endswith(" s")
    }
    return {"total": total, **steps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=240)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sync-cases", type=int, default=10000, help="0 to skip the sync timing")
    parser.add_argument("--keep", action="store_true", help="Keep the work folder.")
    parser.add_argument(
        "--dump", type=Path, help="Write each pair casectl judged otherwise than the rules here."
    )
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="casectl-merge-bench-"))
    try:
        started = time.perf_counter()
        pairs = corpus(options.pairs, options.seed, work)
        made = time.perf_counter() - started
        results = judge(pairs, work, options.dump)
        writes = Counter(w for p in pairs for w in p["writes"])
        same = sum(p["same_case"] for p in pairs)
        true = sum(bool(p["true_conflict"]) for p in pairs)
        print(f"\n{len(pairs)} pairs ({same} with writes on both sides, {len(pairs) - same} on one "
              f"side; {true} with a true conflict), made in {made:.0f} s, seed {options.seed}")  # fmt: skip
        print("writes: " + ", ".join(f"{k} {v}" for k, v in sorted(writes.items())) + "\n")
        rows = [
            ("merged cleanly and right", "merged cleanly, right"),
            ("pairs without a true conflict merged cleanly", "clean pairs without a true conflict"),
            ("true conflicts reported", "true conflicts detected"),
            ("true conflicts missed", "true conflicts missed"),
            ("conflict reported where none was true", "conflict where none was true"),
            ("wrong merges (lost, duplicated, broken reference, invalid file)", "wrong merges"),
        ]
        methods = list(results)
        print("| | " + " | ".join(methods) + " |")
        print("|---|" + "---:|" * len(methods))
        free = len(pairs) - true
        for label, key in rows:
            cells = []
            for m in methods:
                n = results[m][key]
                whole = (
                    free
                    if "without" in label
                    else true
                    if "true conflicts" in label
                    else len(pairs)
                )
                cells.append(f"{n} ({100 * n / whole:.0f} %)" if whole else str(n))
            print(f"| {label} | " + " | ".join(cells) + " |")
        for m in methods:
            details = {k: v for k, v in results[m].items() if k.startswith(("wrong: ", "missed: "))}
            if details:
                print(f"{m}: " + ", ".join(f"{k} {v}" for k, v in sorted(details.items())))
        if options.sync_cases:
            timing = sync_timing(options.sync_cases, work / "sync")
            steps = ", ".join(f"{k} {v:.2f} s" for k, v in timing.items() if k != "total")
            print(f"\nsync of {options.sync_cases} cases, the other side changed 100 (10 of them "
                  f"changed here too): {timing['total']:.2f} s ({steps})")  # fmt: skip
    finally:
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
