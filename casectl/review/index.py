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
stage, manager, dates, language) and the dated review facts, what `review` shows of each.
It is written like a case file (temporary file, then rename; file 0600 in a 0700 folder), and
an unreadable, corrupt or old index is simply rebuilt.

Cold files are read by the fast validated reader (casectl.store.fast), in worker processes
when there are many.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISDIR, S_ISLNK, S_ISREG
from typing import TYPE_CHECKING, Any, NamedTuple

from casectl.batch import in_chunks, paused_gc
from casectl.dates import completed_years

if TYPE_CHECKING:
    from casectl.config import Config
    from casectl.models.case import Case

INDEX_VERSION = 4  # 2: same-day flags; 3: facts from the derived state; 4: invalid files' problems
CACHE_ENV = "CASECTL_CACHE_DIR"
CONFIG_NAME = "config.toml"  # casectl.config.CONFIG_NAME, without importing pydantic
CASE_SUFFIX = ".yaml"  # casectl.store.paths.CASE_SUFFIX
# A file changed this recently may change again within the same timestamp tick.
RACY_NS = 2_000_000_000

StatKey = tuple[int, int, int, int]  # mtime, ctime (ns), size, inode


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
    # The review facts as plain tuples (kind, due, item, what), as the index stores them.
    facts: tuple[tuple[str, str, str | None, str], ...]
    flags: tuple[str, ...] = ()

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


def summarise(case: Case, config: Config, today: dt.date) -> CaseSummary:
    """The summary the index keeps of a case validated on `today`.

    Nothing in it depends on the day once the case is valid (no record is dated after the day it
    was validated), so it holds on every later day until the file changes.
    """
    from casectl.models.validation import latest_day
    from casectl.review.worklist import review_facts
    from casectl.state import derive

    # Every record the case holds counts, a colleague's dated tomorrow in their time zone too.
    state = derive(case, on=latest_day(today))
    last = state.last_contact
    review = state.next_review
    return CaseSummary(
        case_id=case.id,
        client=case.client.name,
        dob=case.client.dob.isoformat(),
        status=case.status,
        risk=state.risk_level,
        stage=state.stage,
        manager=case.case_manager,
        opened=case.opened.isoformat(),
        last_contact=last.date.isoformat() if last else None,
        next_review=review.isoformat() if review else None,
        open_referrals=len(state.open_referrals),
        language=case.client.preferred_language,
        facts=tuple((f.kind, f.due, f.item, f.what) for f in review_facts(state, config)),
        flags=state.flag_codes(),
    )


@dataclass
class Caseload:
    """The summaries of every valid case file, in file-name order, and what else was found."""

    cases: list[CaseSummary]
    invalid: int
    window_days: int
    read: int  # files read (not taken from the index) this time
    # Each invalid file's name and its first problem (`file:line: message`), in name order.
    problems: list[tuple[str, str]] = field(default_factory=list)


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
    return cache_dir() / f"index-{key[:32]}.bin"


# --- reading the caseload ---


def _stat_key(path: Path | str) -> StatKey | None:
    try:
        return _key(os.stat(path))
    except OSError:
        return None


def _key(st: os.stat_result) -> StatKey:
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


def _case_files(root: Path) -> list[tuple[str, StatKey | None]]:
    """The case files in `root` (as CaseStore.case_files picks them), with their stat keys.

    Regular files and links (a dangling link has no key: it is read, and reported invalid,
    every time). One stat per file, relative to the open folder: this is most of a warm run.
    """
    try:
        names = os.listdir(root)
        folder = os.open(root, os.O_RDONLY) if os.stat in os.supports_dir_fd else None
    except OSError as exc:
        from casectl.errors import CaseNotFound

        raise CaseNotFound(
            f"the data directory {root} cannot be read ({exc.strerror}); check its permissions."
        ) from None
    found: list[tuple[str, StatKey | None]] = []
    try:
        for name in names:
            if not name.endswith(CASE_SUFFIX) or name.startswith("."):
                continue
            where = name if folder is not None else os.path.join(root, name)
            key: StatKey | None
            try:
                st = os.stat(where, dir_fd=folder)
                key, regular = _key(st), S_ISREG(st.st_mode)
            except OSError:
                key, regular = None, False
            if not regular:
                try:  # not a regular file: kept only if it is a link (to a folder, or dangling)
                    if not S_ISLNK(os.lstat(where, dir_fd=folder).st_mode):
                        continue
                except OSError:
                    continue  # gone since the listing
            found.append((name, key))
    finally:
        if folder is not None:
            os.close(folder)
    found.sort()
    return found


# One entry per file: (stat key or None, ISO day checked, summary, or the first problem as text
# when the file is invalid).
Entry = tuple[StatKey | None, str, CaseSummary | str]


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
    problems: list[tuple[str, str]] = []
    for name, _ in files:
        summary = kept[name][2]
        if isinstance(summary, str):
            problems.append((name, summary))
        else:
            cases.append(summary)
    if path is not None and (stale or len(known) != len(kept) or not known):
        _write_index(path, root, config_key, window_days, kept)
    return Caseload(cases, len(problems), window_days, len(stale), problems)


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
            if summary.__class__ is str:
                if today <= entry[1]:
                    kept[name] = entry
                    continue
            elif today >= entry[1]:
                kept[name] = (key, entry[1], make(summary))
                continue
        stale.append((name, key))
    return kept, stale


def _read_files(
    root: Path, stale: list[tuple[str, StatKey | None]], today: dt.date, started: int
) -> dict[str, Entry]:
    """Read, validate and summarise the given files, in worker processes when there are many."""
    # Import what the workers use before they fork, so each does not import it again.
    from casectl.store.store import CaseStore  # noqa: F401

    out: dict[str, Entry] = {}
    for entries in in_chunks(_read_chunk, (str(root), today, started), stale, "Indexing cases"):
        out.update(entries)
    return out


def _read_chunk(
    root_text: str, today: dt.date, started: int, chunk: Sequence[tuple[str, StatKey | None]]
) -> dict[str, Entry]:
    """Index entries for some files of one data directory (run in a worker or in-process)."""
    from casectl.errors import CasectlError
    from casectl.store.fast import read_case
    from casectl.store.store import CaseStore

    store = CaseStore(Path(root_text), today=today)
    config = store.config
    racy_from = started - RACY_NS
    checked = today.isoformat()
    out: dict[str, Entry] = {}
    for name, key in chunk:
        path = store.root / name
        summary: CaseSummary | str
        try:
            summary = summarise(read_case(store, path), config, today)
        except CasectlError as exc:
            summary = exc.message
        if key is not None and max(key[0], key[1]) >= racy_from:
            key = None  # too fresh to trust its stat next time
        out[name] = (key, checked, summary)
    return out


# --- the index file ---

# The file: this line, a 16-byte BLAKE2b digest of the rest, then the rest, a marshal dump of
# ((casectl version, data dir, config stat key, window days), {file name: entry}).
# marshal is Python's own format for its bytecode caches: loading it is twice as fast as JSON,
# which is most of a warm run. Its format may change between Python versions, so the version is
# in the line; it is not meant for bytes anyone could have crafted, so the digest is checked
# first and an index that fails it (truncated, damaged, written by something else) is rebuilt.
MAGIC = f"casectl index {INDEX_VERSION} python {sys.version_info[0]}.{sys.version_info[1]}\n"
DIGEST_BYTES = 16


def _digest(payload: bytes | memoryview) -> bytes:
    return hashlib.blake2b(payload, digest_size=DIGEST_BYTES).digest()


def encode_index(header: tuple[Any, ...], files: dict[str, Entry]) -> bytes:
    """The bytes of an index file holding `header` and the entries `files`."""
    import marshal

    plain = {
        name: (key, checked, summary if isinstance(summary, str) else tuple(summary))
        for name, (key, checked, summary) in sorted(files.items())
    }
    payload = marshal.dumps((header, plain), 4)
    return MAGIC.encode() + _digest(payload) + payload


def decode_index(raw: bytes) -> tuple[Any, Any]:
    """(header, entries) of an index file's bytes; ValueError when they are not a whole index."""
    import marshal

    magic = MAGIC.encode()
    if not raw.startswith(magic):
        raise ValueError("not an index of this casectl and Python")
    start = len(magic) + DIGEST_BYTES
    payload = memoryview(raw)[start:]  # 4 MB on 10,000 cases: not copied
    if _digest(payload) != raw[len(magic) : start]:
        raise ValueError("the index does not match its digest")
    try:
        header, files = marshal.loads(payload)
    except (EOFError, TypeError) as exc:
        raise ValueError(str(exc)) from None
    return header, files


def _header(root: Path, config_key: StatKey | None, window_days: int) -> tuple[Any, ...]:
    from casectl import __version__

    return (__version__, str(root.resolve()), config_key, window_days)


def _read_index(
    path: Path, root: Path, config_key: StatKey | None
) -> tuple[dict[str, Entry], int | None]:
    """The entries of a current index, or nothing when it is missing, stale or corrupt."""
    try:
        raw = read_index_bytes(path)
        if raw is None:
            return {}, None
        header, files = decode_index(raw)
        window_days = header[3]
        if header != _header(root, config_key, window_days) or not isinstance(files, dict):
            return {}, None
        if type(window_days) is not int:
            return {}, None
        return files, window_days
    except (OSError, ValueError, IndexError, TypeError):
        return {}, None


# An index holds a few hundred bytes a case; one far larger than this is not an index.
MAX_INDEX_BYTES = 256 * 1024 * 1024


def read_index_bytes(path: Path, limit: int = MAX_INDEX_BYTES) -> bytes | None:
    """The bytes of the index file, or None when there is no usable one.

    The cache folder is not the data folder, but anything may sit at the index's name: a link
    (to /dev/zero, say), a named pipe (an open would wait for a writer for ever), a folder, a
    huge file. It is opened without following links and without blocking, read only when it is
    a regular file of a sane size, and never more than that size; otherwise there is no index,
    and the write that follows replaces it (see _clear_the_way).
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None  # missing, a link (ELOOP), or not ours to read
    try:
        info = os.fstat(fd)
        if not S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        chunks: list[bytes] = []
        left = info.st_size + 1  # a file that grows meanwhile is still read no further
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 22))):
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks) if left > 0 else None
    except OSError:
        return None
    finally:
        os.close(fd)


def _clear_the_way(path: Path) -> None:
    """Make room at the index's name for a new index when something else is there.

    A rename replaces a link, a pipe or a device node by itself (without following a link), so
    only a folder is in the way: an empty one is removed, any other moved aside under a name
    that says why, so that the index is rebuilt rather than every run going without it.
    """
    try:
        if not S_ISDIR(os.lstat(path).st_mode):
            return
    except OSError:
        return
    try:
        os.rmdir(path)
    except OSError:
        os.replace(path, path.with_name(f"{path.name}.not-an-index-{time.time_ns()}"))


def _write_index(
    path: Path, root: Path, config_key: StatKey | None, window_days: int, files: dict[str, Entry]
) -> None:
    """Replace the index atomically; an index that cannot be written is only a slower next run."""
    from casectl.store.store import remove_stale_temp_files, write_atomic

    data = encode_index(_header(root, config_key, window_days), files)
    try:
        folder = path.parent
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        # A killed rebuild can leave its temporary file; it holds case data, so it goes.
        remove_stale_temp_files(folder)
        _clear_the_way(path)
        write_atomic(path, data)
        # casectl 0.1 kept this index as JSON beside it: case data nothing reads any more.
        path.with_suffix(".json").unlink(missing_ok=True)
    except OSError:
        pass
