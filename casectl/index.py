"""The summary index: what `list` and `review` need from each case, kept between runs.

Reading and validating 10,000 YAML files takes tens of seconds; this index makes the second
run instant. It lives outside the case folder (the user cache folder, or `$CASECTL_CACHE_DIR`),
one file per data directory, named by a hash of the directory's resolved path. For every case
file it keeps the file's stat (mtime, ctime, size, inode), the day it was checked and either
the case's summary or the fact that it was invalid. A file whose stat changed is read again; a
file that is gone drops out; everything is read again when the config, the index format or
casectl's version changes. A file changed in the last two seconds is never trusted to its stat
(two writes within one timestamp tick look the same), so it is read again next time too.

The index is case data, so it holds little: the `list` row (name, date of birth, status, risk,
stage, manager, dates, language) and the dated review facts, whose `what` cuts free text short.
It is written like a case file (temporary file, then rename; file 0600 in a 0700 folder), and
an unreadable, corrupt or old index is simply rebuilt.

Cold files are read fast: libyaml composes the document, scalars are resolved by YAML 1.2 rules
exactly as ruamel.yaml (the store's parser) resolves them, and the plain data goes through the
same `validate_case`. Anything unusual (anchors, tags, directives, an error of any kind) is
handed to the store's own reader, which gives the same result or the located error.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from casectl.dates import completed_years

if TYPE_CHECKING:
    from casectl.config import Config
    from casectl.models.case import Case
    from casectl.store.store import CaseStore

INDEX_VERSION = 2  # 2: summaries carry same-day flags
CACHE_ENV = "CASECTL_CACHE_DIR"
CONFIG_NAME = "config.toml"  # casectl.config.CONFIG_NAME, without importing pydantic
CASE_SUFFIX = ".yaml"  # casectl.store.paths.CASE_SUFFIX
MAX_CASE_BYTES = 2 * 1024 * 1024  # casectl.store.yamlio.MAX_CASE_BYTES
# A case nests about 7 levels deep and holds no long numbers; anything beyond these is left
# to the store's reader, which has its own limits and says what is wrong.
MAX_DEPTH = 12
MAX_NUMBER_CHARS = 40
# A file changed this recently may change again within the same timestamp tick.
RACY_NS = 2_000_000_000
# Below this many files to read, starting worker processes costs more than it saves.
PARALLEL_FROM = 300
CHUNK = 250

StatKey = list[int]


class CaseSummary(NamedTuple):
    """What `list` and `review` need of one case; dates are ISO text."""

    case_id: str
    client: str
    dob: str
    status: str
    risk: str | None
    stage: str
    manager: str
    opened: str
    last_contact: str | None
    next_review: str | None
    open_referrals: int
    language: str
    # The review facts as the index stores them: lists [kind, due, item, what] (a worklist.Fact
    # read back from JSON is a list, so fresh ones are kept as lists too).
    facts: Sequence[Sequence[Any]]
    flags: Sequence[str] = ()

    def list_row(self, today: dt.date) -> dict[str, Any]:
        """The case as a row of `casectl list` (LIST_FIELDS), its age as of `today`."""
        return {
            "case_id": self.case_id,
            "client": self.client,
            "age": completed_years(dt.date.fromisoformat(self.dob), today),
            "status": self.status,
            "risk": self.risk,
            "stage": self.stage,
            "manager": self.manager,
            "opened": self.opened,
            "last_contact": self.last_contact,
            "next_review": self.next_review,
            "open_referrals": self.open_referrals,
            "language": self.language,
            "flags": list(self.flags),
        }


def summarise(case: Case, config: Config) -> CaseSummary:
    """The summary the index keeps of a validated case."""
    from casectl.summary import latest_stage, next_review, open_referrals, same_day_flags
    from casectl.worklist import review_facts

    risk = case.current_risk
    last = case.last_follow_up
    review = next_review(case, config)
    return CaseSummary(
        case_id=case.id,
        client=case.client.name,
        dob=case.client.dob.isoformat(),
        status=case.status,
        risk=risk.effective_level if risk else None,
        stage=latest_stage(case),
        manager=case.case_manager,
        opened=case.opened.isoformat(),
        last_contact=last.date.isoformat() if last else None,
        next_review=review.isoformat() if review else None,
        open_referrals=len(open_referrals(case)),
        language=case.client.preferred_language,
        facts=[list(fact) for fact in review_facts(case, config)],
        flags=same_day_flags(case),
    )


@dataclass
class Caseload:
    """The summaries of every valid case file, in file-name order, and what else was found."""

    cases: list[CaseSummary]
    invalid: int
    window_days: int
    read: int  # files read (not taken from the index) this time


# --- where the index lives ---


def cache_dir() -> Path:
    """`$CASECTL_CACHE_DIR`, else the platform's user cache folder for casectl."""
    given = os.environ.get(CACHE_ENV)
    if given:
        return Path(given).expanduser()
    from platformdirs import user_cache_path

    return user_cache_path("casectl", appauthor=False)


def index_path(root: Path) -> Path:
    """The index file of the data directory `root`."""
    key = hashlib.sha256(str(root.resolve()).encode("utf-8", "surrogateescape")).hexdigest()
    return cache_dir() / f"index-{key[:32]}.json"


# --- long batch work ---


@contextmanager
def paused_gc() -> Iterator[None]:
    """Run a block without the cyclic garbage collector.

    Building hundreds of thousands of small lists and tuples (the index, the review) makes the
    collector run over and over for nothing: none of them form cycles. Paused, it is 2-3x faster.
    """
    import gc

    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # What was built lives until the command ends: freeze it, so that re-enabling the
        # collector does not start with a full pass over every one of those objects.
        gc.freeze()
        if was_on:
            gc.enable()


@contextmanager
def progress(total: int, label: str, *, minimum: int = 200) -> Iterator[Callable[[int], None]]:
    """Yield `advance(n)`; a progress bar on stderr while it runs, only when stderr is a terminal.

    Short jobs (fewer than `minimum` steps) and piped stderr show nothing.
    """
    if total < minimum or not sys.stderr.isatty():
        yield _no_progress
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)

        def advance(steps: int = 1) -> None:
            bar.advance(task, steps)

        yield advance


def _no_progress(steps: int = 1) -> None:
    pass


# --- reading the caseload ---


def _stat_key(path: Path | str) -> StatKey | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino]


def _case_files(root: Path) -> list[tuple[str, StatKey | None]]:
    """The case files in `root` (as CaseStore.case_files picks them), with their stat keys."""
    found = []
    try:
        entries = os.scandir(root)
    except OSError as exc:
        from casectl.errors import CaseNotFound

        raise CaseNotFound(
            f"the data directory {root} cannot be read ({exc.strerror}); check its permissions."
        ) from None
    with entries:
        for entry in entries:
            name = entry.name
            if not name.endswith(CASE_SUFFIX) or name.startswith("."):
                continue
            try:
                if not (entry.is_file() or entry.is_symlink()):
                    continue
                st = entry.stat()
                key: StatKey | None = [st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino]
            except OSError:
                key = None  # a dangling link: read (and reported invalid) every time
            found.append((name, key))
    found.sort()
    return found


# One entry per file: [stat key or None, ISO day checked, summary or None when invalid].
Entry = list[Any]


def load_summaries(root: Path, *, today: dt.date, use_index: bool = True) -> Caseload:
    """The summaries of every case file in `root`, from the index where it is still right.

    `today` is the day files are validated on (records may not be dated after it).
    `use_index=False` reads every file and leaves the index alone.
    """
    with paused_gc():
        return _load_summaries(root, today=today, use_index=use_index)


def _load_summaries(root: Path, *, today: dt.date, use_index: bool) -> Caseload:
    if not root.is_dir():
        from casectl.store.store import CaseStore

        CaseStore(root).require()
    started = time.time_ns()
    files = _case_files(root)
    config_key = _stat_key(root / CONFIG_NAME)
    today_text = today.isoformat()
    path = index_path(root) if use_index else None
    known, window_days = _read_index(path, root, config_key) if path else ({}, None)
    try:
        kept, stale = _still_true(files, known, today_text)
    except (TypeError, ValueError, IndexError, AttributeError):
        # An entry of the wrong shape: the index is corrupt, so none of it is trusted.
        known, window_days = {}, None
        kept, stale = _still_true(files, known, today_text)

    if stale or window_days is None:
        from casectl.config import load_config

        window_days = load_config(root).review.window_days
    if stale:
        kept.update(_read_files(root, stale, today, started))

    cases: list[CaseSummary] = []
    for name, _ in files:
        summary = kept[name][2]
        if summary is not None:
            cases.append(summary)
    if path is not None and (stale or len(known) != len(kept) or not known):
        _write_index(path, root, config_key, window_days, kept)
    return Caseload(cases, len(files) - len(cases), window_days, len(stale))


def _still_true(
    files: list[tuple[str, StatKey | None]], known: dict[str, Entry], today: str
) -> tuple[dict[str, Entry], list[tuple[str, StatKey | None]]]:
    """The index entries that still hold, and the files to read again."""
    kept: dict[str, Entry] = {}
    stale: list[tuple[str, StatKey | None]] = []
    make = CaseSummary._make
    for name, key in files:
        entry = known.get(name)
        if entry is not None and key is not None and entry[0] == key:
            # Validity only grows with time (a record dated tomorrow is valid tomorrow): a
            # valid file stays valid on later days, an invalid one invalid on earlier days.
            summary = entry[2]
            if summary is None:
                if today <= entry[1]:
                    kept[name] = entry
                    continue
            elif today >= entry[1]:
                entry[2] = make(summary)
                kept[name] = entry
                continue
        stale.append((name, key))
    return kept, stale


def _read_files(
    root: Path, stale: list[tuple[str, StatKey | None]], today: dt.date, started: int
) -> dict[str, Entry]:
    """Read, validate and summarise the given files, in worker processes when there are many."""
    jobs = stale
    workers = _workers() if len(jobs) >= PARALLEL_FROM else 1
    out: dict[str, Entry] = {}
    if workers == 1:
        with progress(len(jobs), "Indexing cases") as advance:
            for start in range(0, len(jobs), CHUNK):
                chunk = jobs[start : start + CHUNK]
                out.update(_read_chunk(str(root), chunk, today, started))
                advance(len(chunk))
        return out
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # Import what the workers use before they fork, so each does not import it again.
    from casectl.store.store import CaseStore  # noqa: F401

    context = multiprocessing.get_context("fork") if sys.platform == "linux" else None
    size = max(50, min(CHUNK, len(jobs) // (workers * 4) + 1))
    chunks = [jobs[start : start + size] for start in range(0, len(jobs), size)]
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        # All work is submitted (and the workers forked) before any progress thread starts.
        futures = {pool.submit(_read_chunk, str(root), c, today, started): len(c) for c in chunks}
        with progress(len(jobs), "Indexing cases") as advance:
            for future in as_completed(futures):
                out.update(future.result())
                advance(futures[future])
    return out


def _workers() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 8))


def _read_chunk(
    root_text: str, chunk: list[tuple[str, StatKey | None]], today: dt.date, started: int
) -> dict[str, Entry]:
    """Index entries for some files of one data directory (run in a worker or in-process)."""
    from casectl.errors import CasectlError
    from casectl.store.store import CaseStore

    store = CaseStore(Path(root_text), today=today)
    config = store.config
    racy_from = started - RACY_NS
    checked = today.isoformat()
    out: dict[str, Entry] = {}
    for name, key in chunk:
        path = store.root / name
        summary: CaseSummary | None
        try:
            summary = summarise(read_case(store, path), config)
        except CasectlError:
            summary = None
        if key is not None and max(key[0], key[1]) >= racy_from:
            key = None  # too fresh to trust its stat next time
        out[name] = [key, checked, summary]
    return out


# --- the index file ---


def _read_index(
    path: Path, root: Path, config_key: StatKey | None
) -> tuple[dict[str, Entry], int | None]:
    """The entries of a current index, or nothing when it is missing, stale or corrupt."""
    from casectl import __version__

    try:
        data = json.loads(path.read_bytes())
        if (
            data["version"] != INDEX_VERSION
            or data["casectl"] != __version__
            or data["data_dir"] != str(root.resolve())
            or data["config"] != config_key
        ):
            return {}, None
        window_days = data["window_days"]
        files: dict[str, Entry] = data["files"]
        if not isinstance(window_days, int) or not isinstance(files, dict):
            return {}, None
        return files, window_days
    except (OSError, ValueError, KeyError, TypeError):
        return {}, None


def _write_index(
    path: Path, root: Path, config_key: StatKey | None, window_days: int, files: dict[str, Entry]
) -> None:
    """Replace the index atomically; an index that cannot be written is only a slower next run."""
    from casectl import __version__
    from casectl.store.store import write_atomic

    data = {
        "version": INDEX_VERSION,
        "casectl": __version__,
        "data_dir": str(root.resolve()),
        "config": config_key,
        "window_days": window_days,
        "files": {name: files[name] for name in sorted(files)},
    }
    try:
        folder = path.parent
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        _remove_leftovers(folder)
        write_atomic(path, json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    except OSError:
        pass


def _remove_leftovers(folder: Path) -> None:
    # A killed rebuild can leave its temporary file; it holds case data, so it goes.
    hour_ago = time.time() - 3600
    for leftover in folder.glob(".casectl-*.tmp"):
        try:
            if leftover.stat().st_mtime < hour_ago:
                leftover.unlink()
        except OSError:
            pass


# --- reading one case file fast ---


class _NotFast(Exception):
    """The fast reader leaves this file to the store's reader."""


_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_DATE = "tag:yaml.org,2002:timestamp"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
# ruamel.yaml's YAML 1.2 implicit resolvers (ruamel/yaml/resolver.py), copied so that a plain
# scalar means the same here as in the store. tests/test_index.py checks them against ruamel.
_BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_FLOAT_RE = re.compile(
    r"""^(?:
     [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_INT_RE = re.compile(
    r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0o?[0-7_]+
    |[-+]?[0-9_]+
    |[-+]?0x[0-9a-fA-F_]+)$""",
    re.X,
)
_DATE_RE = re.compile(r"^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]$")
_DATETIME_RE = re.compile(
    r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
    (?:[Tt]|[ \t]+)[0-9][0-9]?
    :[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
    (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
    re.X,
)
# yamlio._scan refuses a plain scalar shaped like a date that is not a real one.
_DATE_LIKE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_PLAIN_TAGS = frozenset(
    {"!", _STR, _INT, _FLOAT, _BOOL, _NULL, _DATE, _MAP, _SEQ}
)  # yamlio._PLAIN_TAGS


_PLAIN = "plain"  # what the composer tags an untagged plain scalar; _plain() resolves it


# The first characters a plain scalar must have to be anything but text (ruamel's resolvers
# are keyed the same way); text starting with anything else is text, with no more checks.
_NOT_TEXT = frozenset("~nNtTfF-+.0123456789<=!&*") | {""}


def _plain(value: str) -> Any:
    """An untagged plain scalar's value under ruamel.yaml's YAML 1.2 rules; _NotFast if unsure."""
    first = value[:1]
    if first not in _NOT_TEXT:
        return value
    if first in ("", "~", "n", "N"):
        return None if value in _NULLS else value
    if first in ("t", "T", "f", "F"):
        return (first in "tT") if _BOOL_RE.match(value) else value
    if first in "-+.0123456789":
        try:
            if _FLOAT_RE.match(value):
                if len(value) > MAX_NUMBER_CHARS:
                    raise _NotFast
                return _float(value)
            if first != "." and _INT_RE.match(value):
                if len(value) > MAX_NUMBER_CHARS:
                    raise _NotFast
                return _int(value)
            if _DATE_RE.match(value):
                return dt.date.fromisoformat(value)
        except ValueError:
            raise _NotFast from None  # an impossible date: the store names its line
        if _DATETIME_RE.match(value):
            raise _NotFast  # a time of day: the store decides what it means
        match = _DATE_LIKE.match(value)
        if match:
            try:
                dt.date(*(int(g) for g in match.groups()))
            except ValueError:
                raise _NotFast from None
        return value
    if value in ("<<", "=", "!", "&", "*"):
        raise _NotFast  # merge keys and the like
    return value


def _int(value: str) -> int:
    text = value.replace("_", "")
    sign = -1 if text[0] == "-" else 1
    if text[0] in "+-":
        text = text[1:]
    for prefix, base in (("0b", 2), ("0x", 16), ("0o", 8)):
        if text.startswith(prefix):
            return sign * int(text[2:], base)
    return sign * int(text)  # YAML 1.2: a leading zero is not octal


def _float(value: str) -> float:
    text = value.replace("_", "").lower()
    if "inf" in text or "nan" in text:
        raise _NotFast  # no case value is infinite or not a number: the store decides
    return float(text)


def _tagged(tag: str, value: str) -> Any:
    """A scalar with an explicit plain tag (`!!int 3`), as ruamel constructs it."""
    try:
        if tag == _INT:
            return _int(value)
        if tag == _FLOAT:
            return _float(value)
        if tag == _BOOL and _BOOL_RE.match(value):
            return value[0] in "tT"
        if tag == _NULL and value in _NULLS:
            return None
        if tag == _DATE and _DATE_RE.match(value):
            return dt.date.fromisoformat(value)
    except (ValueError, IndexError):
        pass
    raise _NotFast


_composer: list[Any] = []


def _composer_class() -> Any:
    """A libyaml composer that leaves plain scalars for _plain(); None without libyaml."""
    if _composer:
        return _composer[0]
    try:
        from yaml._yaml import CParser  # type: ignore[import-untyped]
        from yaml.nodes import ScalarNode, SequenceNode  # type: ignore[import-untyped]
    except ImportError:
        _composer.append(None)
        return None

    class Composer(CParser):  # type: ignore[misc]
        def descend_resolver(self, parent: Any, index: Any) -> None:
            pass

        def ascend_resolver(self) -> None:
            pass

        def resolve(self, kind: Any, value: str, implicit: tuple[bool, bool]) -> str:
            if kind is ScalarNode:
                return _PLAIN if implicit[0] else _STR
            return _SEQ if kind is SequenceNode else _MAP

    _composer.append(Composer)
    return Composer


def _build(node: Any, depth: int = 1) -> Any:
    """Plain data from a composed node, as yamlio.to_plain gives it from ruamel's tree."""
    tag = node.tag
    if tag is _PLAIN:
        return _plain(node.value)
    if depth > MAX_DEPTH:
        raise _NotFast  # deeper than any case: the store judges it
    if tag is _MAP or tag == _MAP:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_tag = key_node.tag
            if key_tag is _PLAIN:
                key = key_node.value
                if key[:1] in _NOT_TEXT:
                    key = str(_plain(key))
            elif key_tag == _STR:
                key = key_node.value
            else:
                raise _NotFast  # a complex or tagged key
            if key in out:
                raise _NotFast  # a duplicate key: the store reports it with its line
            # Scalars inline: most nodes are, and a call per node is the cost here.
            value_tag = value_node.tag
            if value_tag is _PLAIN:
                text = value_node.value
                out[key] = _plain(text) if text[:1] in _NOT_TEXT else text
            elif value_tag is _STR:
                out[key] = value_node.value
            else:
                out[key] = _build(value_node, depth + 1)
        return out
    if tag is _SEQ or tag == _SEQ:
        return [_build(item, depth + 1) for item in node.value]
    if tag == _STR:
        return node.value
    if isinstance(node.value, str):
        return _tagged(tag, node.value)
    raise _NotFast


def _has_anchors_or_tags(raw: bytes) -> bool:
    import yaml  # type: ignore[import-untyped]

    loader = yaml.CSafeLoader(raw)
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                return True
            tag = getattr(event, "tag", None)
            if tag is not None and tag not in _PLAIN_TAGS:
                return True
        return False
    finally:
        loader.dispose()


def fast_plain(raw: bytes) -> dict[str, Any]:
    """The plain data of a case file's bytes, as the store would read it; _NotFast if unsure."""
    composer = _composer_class()
    if composer is None:
        raise _NotFast
    # What yamlio.decode refuses: an empty file, a huge one, a BOM, bytes that are not UTF-8.
    if not raw.strip() or len(raw) > MAX_CASE_BYTES or raw.startswith(b"\xef\xbb\xbf"):
        raise _NotFast
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _NotFast from None
    if raw.startswith(b"%") or b"\n%" in raw or b"<<" in raw:
        raise _NotFast  # directives and merge keys
    if (b"&" in raw or b"*" in raw or b"!" in raw) and _has_anchors_or_tags_safe(raw):
        raise _NotFast
    loader = composer(raw)
    try:
        node = loader.get_single_node()
    except Exception:
        raise _NotFast from None
    finally:
        loader.dispose()
    if node is None or node.tag != _MAP:
        raise _NotFast
    data: dict[str, Any] = _build(node)
    return data


def _has_anchors_or_tags_safe(raw: bytes) -> bool:
    try:
        return _has_anchors_or_tags(raw)
    except Exception:
        return True


def read_case(store: CaseStore, path: Path) -> Case:
    """Read and validate one case file: fast when it can be, else through `store.read`.

    Either way the case has passed `validate_case` on the store's today, and its id matches
    the file name; an invalid file raises InvalidCaseFile from the store's reader.
    """
    return case_from_bytes(store, path, store.read_bytes(path))


def case_from_bytes(store: CaseStore, path: Path, raw: bytes) -> Case:
    """Validate a case file's bytes with the fast reader, falling back to `store.parse`."""
    from casectl.models.validation import CaseInvalid, validate_case

    schema = store.schema
    try:
        data = fast_plain(raw)
        # Files of another schema are migrated (or refused) by the store as it reads them.
        version = data.get("schema_version")
        if type(version) is not int or version != schema.version:
            raise _NotFast
        case = validate_case(data, today=store.today, model=schema.model)
    except (_NotFast, CaseInvalid):
        return store.parse(path, raw).case
    if case.id != path.name[: -len(CASE_SUFFIX)]:
        return store.parse(path, raw).case
    return case
