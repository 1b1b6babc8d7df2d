"""Concurrent writers: many processes writing the same case and different cases at once lose
nothing and corrupt nothing; `new` run at once never hands out one id twice; and the summary
index `list` keeps agrees, after the storm, with reading every file.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from casectl.cli.app import app
from casectl.store import CaseStore
from tests.conftest import Cli
from tests.test_crash import follow_up_args, in_child, make_cases, reap

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")

WRITERS = 4
RECORDS = 12  # per writer: half to the case they all share, half to their own


def run(args: list[str]) -> int:
    try:
        app(args, prog_name="casectl")
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_writers_on_the_same_and_on_different_cases_all_land(cli: Cli, tmp_path: Path) -> None:
    shared, *own = make_cases(cli, range(1, WRITERS + 2))
    cli(*follow_up_args(cli.data_dir, shared, "warm-up")[2:])  # lazy imports, before the fork
    stop = tmp_path / "stop"

    def writer(n: int) -> None:
        os.environ["CASECTL_LOCK_TIMEOUT"] = "60"
        failed = [
            (case_id, code)
            for i in range(RECORDS)
            for case_id in [shared if i % 2 == 0 else own[n]]
            if (code := run(follow_up_args(cli.data_dir, case_id, f"w{n} {i}")))
        ]
        assert failed == [], failed

    def lister() -> None:
        # `list` while the files change under it: the index must not keep what it saw mid-write.
        while not stop.exists():
            assert run(["--data-dir", str(cli.data_dir), "list", "--format", "json"]) == 0

    listing = in_child(lister, tmp_path / "lister.err")
    pids = [in_child(lambda n=n: writer(n), tmp_path / f"writer-{n}.err") for n in range(WRITERS)]
    statuses = [reap(pid) for pid in pids]
    stop.touch()
    assert reap(listing) == 0, (tmp_path / "lister.err").read_text()
    errors = [(tmp_path / f"writer-{n}.err").read_text() for n in range(WRITERS)]
    assert statuses == [0] * WRITERS, errors

    store = CaseStore(cli.data_dir)
    on_shared = Counter(f.summary for f in store.load(shared).case.follow_ups)
    expected = {f"w{n} {i}" for n in range(WRITERS) for i in range(0, RECORDS, 2)}
    assert set(on_shared) - {"warm-up"} == expected and set(on_shared.values()) == {1}
    for n, case_id in enumerate(own):
        summaries = [f.summary for f in store.load(case_id).case.follow_ups]
        assert summaries == [f"w{n} {i}" for i in range(1, RECORDS, 2)]
    cli("check")
    assert not list(cli.data_dir.glob(".casectl-*")), "no temporary file is left behind"

    cached = json.loads(cli("list", "--format", "json").stdout)
    fresh = json.loads(cli("list", "--no-cache", "--format", "json").stdout)
    assert cached == fresh
    assert {row["case_id"]: row["last_contact"] for row in cached}[shared] == "2026-11-25"


def test_new_cases_opened_at_once_get_different_ids(cli: Cli, tmp_path: Path) -> None:
    cli("new", "--name", "Warm Up", "--dob", "2015-01-01", "--sex", "female")

    def opener(n: int) -> None:
        os.environ["CASECTL_LOCK_TIMEOUT"] = "60"
        for i in range(3):
            args = ["--data-dir", str(cli.data_dir), "new", "--name", f"Client {n}-{i}"]
            assert run([*args, "--dob", "2015-01-01", "--sex", "female"]) == 0

    pids = [in_child(lambda n=n: opener(n), tmp_path / f"opener-{n}.err") for n in range(4)]
    assert [reap(pid) for pid in pids] == [0] * 4
    store = CaseStore(cli.data_dir)
    ids = store.case_ids()
    assert len(ids) == 13 and ids[-1] == "C-2026-0013"
    names = sorted(store.load(case_id).case.client.name for case_id in ids)
    assert names == sorted(["Warm Up", *(f"Client {n}-{i}" for n in range(4) for i in range(3))])
    cli("check")


def test_referrals_made_at_once_on_one_case_get_different_ids(cli: Cli, tmp_path: Path) -> None:
    """Ids are allocated inside the case's lock: writers racing `implement --refer` on one case
    all land, each referral with an id of its own."""
    (case_id,) = make_cases(cli, range(1, 2))
    root = str(cli.data_dir)
    cli("implement", case_id, "--refer", "Warm-up service; reason=warm up")
    writers = 4

    def writer(n: int) -> None:
        os.environ["CASECTL_LOCK_TIMEOUT"] = "60"
        for i in range(3):
            args = [
                "--data-dir",
                root,
                "implement",
                case_id,
                "--refer",
                f"Service {n}-{i}; reason=r",
            ]
            assert run(args) == 0

    pids = [in_child(lambda n=n: writer(n), tmp_path / f"ref-{n}.err") for n in range(writers)]
    statuses = [reap(pid) for pid in pids]
    assert statuses == [0] * writers, [
        (tmp_path / f"ref-{n}.err").read_text() for n in range(writers)
    ]
    refs = [
        r
        for record in CaseStore(cli.data_dir).load(case_id).case.coordination
        for r in record.referrals
    ]
    assert len(refs) == 1 + writers * 3
    assert sorted(r.id for r in refs) == sorted(f"r{k}" for k in range(1, len(refs) + 1))
    assert {r.to for r in refs} == {"Warm-up service"} | {
        f"Service {n}-{i}" for n in range(writers) for i in range(3)
    }
    cli("check")
