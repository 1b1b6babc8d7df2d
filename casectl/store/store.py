"""The folder of case files: reading, validating and writing them safely.

Every write is read-modify-write under the case's lock: load and validate the file as it is,
let a pure function make the new case, validate all of it, patch the YAML document (so comments
survive), check the text reads back as the same case, then write a temporary file in the same
folder, fsync it and rename it over the old one. Whatever fails, the old file is left as it was.

Reading brings a file written for an older schema up to this casectl's in memory
(casectl.store.schema); the next write of the case saves that along with its own change.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from casectl.config import CONFIG_NAME, Config, default_config_text, load_config
from casectl.dates import today as clock_today
from casectl.errors import (
    CaseNotFound,
    InvalidCaseFile,
    Problem,
    UnsafePath,
    cannot_write,
    read_only_file,
)
from casectl.models.case import Case
from casectl.models.validation import CaseInvalid, format_loc, validate_case
from casectl.store import schema as migrate
from casectl.store import yamlio
from casectl.store.gitstate import refuse_if_busy
from casectl.store.lock import LOCK_DIR, locked
from casectl.store.paths import CASE_SUFFIX, check_case_id

FILE_MODE = 0o600
DIR_MODE = 0o700
TEMP_GLOB = ".casectl-*.tmp"
# A write's temporary file lives for milliseconds. One this old was left by a process killed
# between writing it and renaming it over the case file: it is a stale copy of a case, so the
# next write removes it (old enough that no live writer can still be using it).
STALE_TEMP_SECONDS = 15 * 60
# What a file system without hard links or modes says when asked for one (FAT, exFAT, SMB).
NOT_SUPPORTED = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS})
GITIGNORE = f"""\
# casectl: lock files and editor leftovers are not part of the case record.
{LOCK_DIR}/
.casectl/
.casectl-*.tmp
.pseudonym-key
*.swp
*~
"""


@dataclass
class LoadedCase:
    path: Path
    case: Case
    doc: yamlio.Document
    # What reading did to bring the file to the current schema; saved by the next write.
    upgrade: migrate.Upgrade | None = None


def dump_case(case: Case) -> dict[str, Any]:
    """The case as plain data for YAML: only what was set, in model order, ISO dates."""
    return case.model_dump(mode="python", by_alias=True, exclude_unset=True)


class CaseStore:
    """The data directory and the case files in it."""

    def __init__(
        self, root: Path, *, today: dt.date | None = None, schema: migrate.Schema | None = None
    ) -> None:
        self.root = root
        self._today = today
        self.schema = schema or migrate.current()

    @property
    def today(self) -> dt.date:
        return self._today or clock_today()

    @cached_property
    def config(self) -> Config:
        return load_config(self.root)

    # --- the folder ---

    def require(self) -> None:
        """Fail clearly when the data directory is missing."""
        if not self.root.is_dir():
            raise CaseNotFound(
                f"no data directory at {self.root}; create it with "
                f"`casectl --data-dir {self.root} init` or set CASECTL_DATA_DIR."
            )

    def init(self) -> list[Path]:
        """Create the data directory with a commented config and a .gitignore; return what was made."""
        made: list[Path] = []
        if not self.root.exists():
            self.root.mkdir(mode=DIR_MODE, parents=True)
            made.append(self.root)
        os.chmod(self.root, DIR_MODE)
        for name, text in ((CONFIG_NAME, default_config_text()), (".gitignore", GITIGNORE)):
            path = self.root / name
            if not path.exists():
                write_atomic(path, text)
                made.append(path)
        return made

    def path_for(self, case_id: str) -> Path:
        """The file of `case_id`, refusing ids and links that lead out of the data directory."""
        path = self.root / f"{check_case_id(case_id)}{CASE_SUFFIX}"
        self._refuse_links_out(path)
        return path

    def _refuse_links_out(self, path: Path) -> None:
        if path.is_symlink():
            target = path.resolve()
            if target.parent != self.root.resolve():
                raise UnsafePath(
                    f"{path} is a link to {target}, outside the data directory; "
                    "casectl only reads case files that live in it."
                )

    def case_files(self) -> list[Path]:
        """Every case file in the folder, sorted by name."""
        self.require()
        return sorted(
            p
            for p in self.root.glob(f"*{CASE_SUFFIX}")
            if not p.name.startswith(".") and (p.is_file() or p.is_symlink())
        )

    def case_ids(self) -> list[str]:
        return [p.name[: -len(CASE_SUFFIX)] for p in self.case_files()]

    # --- reading ---

    def load(self, case_id: str) -> LoadedCase:
        """The case with this id, validated; CaseNotFound or InvalidCaseFile otherwise."""
        self.require()
        path = self.path_for(case_id)
        if not path.exists():
            raise CaseNotFound(
                f"no case {case_id} in {self.root}; `casectl list` shows the cases there."
            )
        return self.read(path)

    def peek(self, case_id: str) -> Case:
        """The case with this id, validated, for reading only: no YAML document is kept.

        Takes the fast reader (libyaml) when the file is plain, which is most of the cost of
        `show` and of a stage command's look at the case before it writes.
        """
        from casectl.store.fast import read_case

        self.require()
        path = self.path_for(case_id)
        if not path.exists():
            raise CaseNotFound(
                f"no case {case_id} in {self.root}; `casectl list` shows the cases there."
            )
        return read_case(self, path)

    def read(self, path: Path) -> LoadedCase:
        """Read and validate one case file."""
        return self.parse(path, self.read_bytes(path))

    def read_bytes(self, path: Path) -> bytes:
        """The bytes of a case file, refusing what no case file can be before reading it.

        Anything that reads case files by name (`check`, `list`, the index) must come here:
        a link to /dev/zero or a named pipe in the folder would otherwise be read without end.
        """
        self._refuse_links_out(path)
        try:
            return _read_regular_file(path)
        except yamlio.YamlProblem as exc:
            raise InvalidCaseFile([Problem(str(path), exc.line, None, exc.message)]) from None
        except OSError as exc:
            raise InvalidCaseFile(
                [Problem(str(path), None, None, f"cannot be read: {exc.strerror}")]
            ) from None

    def parse(self, path: Path, raw: bytes) -> LoadedCase:
        """Validate the bytes of a case file that lives (or will live) at `path`."""
        try:
            doc = yamlio.load(yamlio.decode(raw))
        except yamlio.YamlProblem as exc:
            raise InvalidCaseFile([Problem(str(path), exc.line, None, exc.message)]) from None
        try:
            upgrade = migrate.upgrade(doc.tree, self.schema)  # in memory; the next write saves it
        except migrate.SchemaVersionError as exc:
            where = doc.line_of((migrate.VERSION_KEY,))
            raise InvalidCaseFile(
                [Problem(str(path), where, migrate.VERSION_KEY, exc.message)]
            ) from None
        case = self._validate(path, doc, yamlio.to_plain(doc.tree))
        expected = path.name[: -len(CASE_SUFFIX)]
        if case.id != expected:
            raise InvalidCaseFile(
                [
                    Problem(
                        str(path),
                        doc.line_of(("id",)),
                        "id",
                        f"the id {case.id!r} does not match the file name {path.name}; "
                        "rename the file or correct the id",
                    )
                ]
            )
        return LoadedCase(path, case, doc, upgrade)

    def _validate(self, path: Path, doc: yamlio.Document, data: Any) -> Case:
        try:
            return validate_case(data, today=self.today, model=self.schema.model)
        except CaseInvalid as exc:
            raise InvalidCaseFile(
                [
                    Problem(str(path), doc.line_of(loc), format_loc(loc), message)
                    for loc, message in exc.problems
                ]
            ) from None

    # --- writing ---

    def create(
        self,
        case: Case,
        *,
        extra: Callable[[dict[str, Any]], Any] | None = None,
        then: Callable[[Path], None] | None = None,
    ) -> Path:
        """Write a new case file; refuses to replace an existing one.

        `extra` may add keys of the user's own (`x-…`) to the case data before it is written
        (an import gives back those a FHIR export carried). `then(path)` runs after the write,
        still under the case's lock (the git commit).
        """
        self.require()
        path = self.path_for(case.id)
        with locked(self.root, case.id):
            refuse_if_busy(self.root)
            if path.exists() or path.is_symlink():
                raise UnsafePath(
                    f"a case {case.id} already exists in {self.root}; choose another id."
                )
            data = dump_case(case)
            if extra is not None:
                extra(data)
            doc = yamlio.Document(yamlio.to_yaml(data), 2, 2)
            text = doc.dumps()
            self._validate(path, doc, yamlio.to_plain(yamlio.load(text).tree))
            try:
                write_atomic(path, text, exclusive=True)
            except FileExistsError:  # made by something other than casectl meanwhile
                raise UnsafePath(
                    f"a case {case.id} already exists in {self.root}; choose another id."
                ) from None
            if then is not None:
                then(path)
        remove_stale_temp_files(self.root)
        return path

    def update(
        self,
        case_id: str,
        change: Callable[[Case], Case],
        *,
        then: Callable[[Case, Case], None] | None = None,
    ) -> Case:
        """Apply `change` to the case under its lock and write the result atomically.

        A change that returns the very case it was given changed nothing: the file is left
        untouched and that case is returned. `then(before, after)` runs after a write, still
        under the lock, so that the git commit of this write holds this write's text and no
        later one's.
        """
        self.require()
        path = self.path_for(case_id)
        if not path.exists():
            self.load(case_id)  # says there is no such case, without making a lock for it
        with locked(self.root, case_id):
            refuse_if_busy(self.root)
            current = self.load(case_id)
            refuse_read_only(path)
            new_case = change(current.case)
            if new_case is current.case:
                return new_case
            data = dump_case(new_case)
            # The whole new case is validated before anything touches the file.
            self._validate(path, current.doc, data)
            yamlio.sync(current.doc.tree, data, order=migrate.key_order(self.schema.model))
            text = current.doc.dumps()
            # Read back what would be written: it must parse and validate as the same case.
            from casectl.store.fast import case_from_bytes

            written = case_from_bytes(self, path, text.encode("utf-8"))
            if dump_case(written) != data:
                raise InvalidCaseFile(
                    [
                        Problem(
                            str(path),
                            None,
                            None,
                            "the update did not read back as written; nothing was changed",
                        )
                    ]
                )
            write_atomic(path, text)
            if then is not None:
                then(current.case, written)
        remove_stale_temp_files(self.root)
        return written

    @cached_property
    def id_tag(self) -> str | None:
        """This clone's case-id tag in a team folder (`git config casectl.idtag`), else None."""
        from casectl.store.gitlog import id_tag

        return id_tag(self.root)

    def next_case_id(self, opened: dt.date, taken: Iterable[str] | None = None) -> str:
        """The next free id for the year: PREFIX-YEAR-NNNN, or PREFIX-YEAR-TAG-NNNN in a clone
        with an id tag, so that two people opening cases in two clones never pick the same id.
        `taken` are the ids already in use (default: the folder's)."""
        tag = f"{self.id_tag}-" if self.id_tag else ""
        stem = f"{self.config.case.id_prefix}-{opened.year}-{tag}"
        pattern = re.compile(rf"^{re.escape(stem)}(\d{{4,}})$")
        used = self.case_ids() if taken is None else taken
        numbers = [int(m.group(1)) for cid in used if (m := pattern.match(cid))]
        return f"{stem}{max(numbers, default=0) + 1:04d}"

    @contextlib.contextmanager
    def creating(self) -> Iterator[None]:
        """Serialise id allocation between two `new` commands run at once."""
        self.require()
        with locked(self.root, "new-case"):
            yield


def _read_regular_file(path: Path) -> bytes:
    """The bytes of a regular file of at most MAX_CASE_BYTES, judged before reading it.

    O_NONBLOCK so that opening a pipe does not wait for a writer; the size is taken from the open
    file, so a 50 MB file is refused without reading it.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise yamlio.YamlProblem("is a folder, not a case file")
        if not stat.S_ISREG(info.st_mode):
            raise yamlio.YamlProblem("is not a regular file (a device, pipe or socket)")
        yamlio.check_size(info.st_size)
        chunks: list[bytes] = []
        left = yamlio.MAX_CASE_BYTES + 1  # a file that grows meanwhile is still cut short
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def write_atomic(path: Path, text: str | bytes | Iterable[str], *, exclusive: bool = False) -> None:
    """Write `text` to `path` so that readers see the old file or the new one, never half of one.

    `text` is UTF-8 text, bytes as they are, or pieces of text written as they come (a large
    export need not be held whole). The temporary file sits in the same folder (so the rename is
    atomic and no case data lands in a shared temp folder), is created 0600, and is fsynced
    before and after the rename; if anything fails, it is removed and `path` is untouched. A
    file the user made read-only is refused, never replaced; a full or read-only disk and a
    refused permission are CannotWrite, naming the file.
    """
    if not exclusive:
        refuse_read_only(path)
    existed = os.path.lexists(path)
    try:
        _write_atomic(path, text, exclusive=exclusive)
    except OSError as exc:
        left = "the file was left as it was" if existed else "nothing was written"
        refused = cannot_write(exc, path, left=left)
        if refused is None:
            raise
        raise refused from None


def refuse_read_only(path: Path) -> None:
    """CannotWrite when `path` is a file its owner has made read-only (chmod 400, 444)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return  # not there (yet): nothing to protect
    if stat.S_ISREG(mode) and not mode & stat.S_IWUSR:
        raise read_only_file(path)


def _write_atomic(path: Path, text: str | bytes | Iterable[str], *, exclusive: bool) -> None:
    folder = path.parent
    fd, tmp_name = tempfile.mkstemp(prefix=".casectl-", suffix=".tmp", dir=folder)
    tmp = Path(tmp_name)
    try:
        try:
            os.fchmod(fd, FILE_MODE)
        except OSError as exc:  # FAT and some shares have no modes; mkstemp made it 0600 anyway
            if exc.errno not in NOT_SUPPORTED:
                raise
        with os.fdopen(fd, "wb") as handle:
            if isinstance(text, bytes):
                handle.write(text)
            elif isinstance(text, str):
                handle.write(text.encode("utf-8"))
            else:
                for piece in text:
                    handle.write(piece.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        if exclusive:
            _rename_exclusive(tmp, path)
        else:
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(folder)


def _rename_exclusive(tmp: Path, path: Path) -> None:
    """Give the whole file `tmp` the name `path`, failing if the name is taken meanwhile.

    A hard link does it in one step. Where there are none (FAT, SMB), the name is claimed with
    an exclusive create, then the whole file is renamed over that empty claim: a reader may see
    the name empty for an instant, but never part of a case, and never a case replaced.
    """
    try:
        os.link(tmp, path)
    except OSError as exc:
        if exc.errno not in NOT_SUPPORTED:
            raise
    else:
        tmp.unlink()
        return
    claim = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)  # FileExistsError
    claimed = os.fstat(claim)
    os.close(claim)
    now = os.stat(path)
    if (now.st_dev, now.st_ino) != (claimed.st_dev, claimed.st_ino) or now.st_size:
        raise FileExistsError(errno.EEXIST, "taken by another process meanwhile", str(path))
    os.replace(tmp, path)


def remove_stale_temp_files(folder: Path, *, older_than: float = STALE_TEMP_SECONDS) -> list[Path]:
    """Remove the temporary files killed writers left in `folder`; return what was removed."""
    cutoff = time.time() - older_than
    removed: list[Path] = []
    for leftover in folder.glob(TEMP_GLOB):
        try:
            if leftover.lstat().st_mtime < cutoff:
                leftover.unlink()
                removed.append(leftover)
        except OSError:
            pass  # gone already, or not ours to remove: the next write tries again
    return removed


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def loose_permissions(path: Path) -> bool:
    """True when people other than the owner can read or enter `path`."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IRWXG | stat.S_IRWXO))
