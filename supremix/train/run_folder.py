"""The folder a run writes to: checked before any training, locked while the run lasts, and
never mixed with another run's files (the book's page on rerunning experiments).

A run's files are :data:`RUN_FILES` (``last.pt``, ``best.pt``, ``metrics.csv``,
``results.json``). The rules:

- A folder holding any of them holds a previous run. A new run refuses it unless told to
  continue it (``resume``: from ``last.pt``) or to replace it (``overwrite``).
- A run holds :data:`LOCK_NAME` locked (``fcntl.flock``; ``msvcrt.locking`` on Windows) for
  as long as it lasts; a second run into the folder fails at once, naming the first one's
  process. The operating system drops the lock when a process dies, so a killed run never
  leaves the folder locked; the lock file records the run's process id and its own folder.
- Each run owns one hidden folder inside the run folder, ``.supremix-run-XXXXXXXX`` (created
  exclusively, so it is never a user's), which holds its temporary files; it is removed when
  the run ends, or by the next run when a killed run left it (named in the lock file). A run
  removes no other file it did not create.
- A run that replaces a previous run writes its files into its own folder and publishes them
  together at the end, replacing the previous run's: a run that fails leaves the previous run
  as it was. A first or resumed run writes beside its ``last.pt`` directly, so that a run that
  is stopped can be resumed; its ``results.json`` appears last, when it has succeeded.

Studies and sweeps (``supremix.studies.compare_methods``, ``run_sweep``) given an ``out_dir``
check every run folder they will train into before training any
(:func:`check_new_run_folders`) and never replace a run: a rerun needs a new ``out_dir``.
Without one, as in the book's notebooks, their runs go to a temporary folder that the study
owns and removes, so a notebook (and ``make book``) can always be rerun.

Every refusal is a :class:`RunFolderError` (a :class:`ValueError`) whose message names the
folder and the way on.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .checkpoint import BEST, LAST, atomic_save, atomic_write_json, atomic_write_text
from .distributed import DistEnv, broadcast_object
from .history import METRICS_CSV
from .provenance import now_iso

RESULTS_JSON = "results.json"
RUN_FILES = (LAST, BEST, METRICS_CSV, RESULTS_JSON)
LOCK_NAME = ".supremix-run.lock"
RUN_DIR_PREFIX = ".supremix-run-"
WAYS_ON = "continue it with --resume or replace it with --overwrite"


class RunFolderError(ValueError):
    """A run folder that cannot be used as asked; the message names it and the way on."""


class RunFolderInUseError(RunFolderError):
    """Another live run holds the folder's lock."""


class PreviousRunError(RunFolderError):
    """The folder holds a previous run and neither resume nor overwrite was asked for."""


def _writable_probe(folder: Path) -> None:
    """Create and remove an exclusive temporary file in ``folder`` (root ignores permission
    bits, so asking :func:`os.access` is not enough)."""
    handle, name = tempfile.mkstemp(prefix=".supremix-probe-", dir=folder)
    os.close(handle)
    os.unlink(name)


def check_out_path(out: str | os.PathLike[str]) -> Path:
    """``out`` as a path to a folder a run can create and write, else :class:`RunFolderError`."""
    if not str(out).strip():
        raise RunFolderError("the output folder is '' (empty); give a folder, e.g. runs/mine")
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise RunFolderError(f"{path} is a file, not a folder; give a folder for the run's files")
    existing = next(p for p in (path, *path.parents) if p.exists() or p == Path(p.anchor))
    if not existing.is_dir():
        raise RunFolderError(f"cannot create {path}: {existing} is a file, not a folder")
    try:
        _writable_probe(existing)
    except OSError as error:
        raise RunFolderError(
            f"cannot write in {existing} ({error.strerror}), needed for {path}; "
            "give a folder you can write"
        ) from None
    return path


def previous_run_files(folder: Path) -> list[str]:
    """The names of :data:`RUN_FILES` present in ``folder``."""
    return [name for name in RUN_FILES if (folder / name).exists()]


def _lock_holder(lock_path: Path) -> str:
    try:
        held = json.loads(lock_path.read_text(encoding="utf-8"))
        return f"process {held['pid']} on {held['host']}, started {held['started']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


def _try_lock(handle: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(handle, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _in_use(folder: Path) -> RunFolderInUseError:
    return RunFolderInUseError(
        f"{folder} is in use by another run ({_lock_holder(folder / LOCK_NAME)}); wait for it "
        "to end or choose another folder"
    )


def check_not_in_use(folder: Path) -> None:
    """Raise :class:`RunFolderInUseError` when a live run holds ``folder``'s lock (reads only)."""
    lock_path = folder / LOCK_NAME
    if not lock_path.is_file():
        return
    handle = os.open(lock_path, os.O_RDWR)
    try:
        if not _try_lock(handle):
            raise _in_use(folder)
    finally:
        os.close(handle)


def check_run_folder(
    out: str | os.PathLike[str], *, resume: bool = False, overwrite: bool = False
) -> Path:
    """Check, without writing, that a run may use ``out`` as asked; returns it as a path.

    ``resume``: ``out`` holds a ``last.pt`` to continue (or no run at all: a fresh start);
    ``overwrite``: a previous run may be replaced; neither: ``out`` holds no previous run.
    Under ``torchrun`` only the main process (``RANK`` 0) checks: the others may start after
    it has claimed the folder.
    """
    if os.environ.get("RANK", "0") != "0":
        return Path(out)
    return _check_run_folder(out, resume=resume, overwrite=overwrite)


def _check_run_folder(out: str | os.PathLike[str], *, resume: bool, overwrite: bool) -> Path:
    if resume and overwrite:
        raise RunFolderError(f"{out}: resume and overwrite exclude each other; choose one")
    path = check_out_path(out)
    if path.is_dir():
        check_not_in_use(path)
        _check_contents(path, resume=resume, overwrite=overwrite)
    return path


def _check_contents(path: Path, *, resume: bool, overwrite: bool) -> None:
    found = previous_run_files(path)
    folders = [name for name in found if not (path / name).is_file()]
    if folders:
        raise RunFolderError(
            f"{path}: {', '.join(folders)} is a folder, where a run writes a file; move it away"
        )
    if resume and found and LAST not in found:
        raise RunFolderError(
            f"cannot resume in {path}: it holds {', '.join(found)} but no {LAST}; "
            "start over with --overwrite"
        )
    if found and not (resume or overwrite):
        raise PreviousRunError(f"{path} holds a previous run ({', '.join(found)}); {WAYS_ON}")


class _Lock:
    """The held lock of a run folder (see the module docstring)."""

    def __init__(self, path: Path, handle: int, created: bool, previous: dict[str, Any]):
        self.path, self.handle, self.created, self.previous = path, handle, created, previous

    @classmethod
    def acquire(cls, folder: Path) -> _Lock:
        path = folder / LOCK_NAME
        while True:
            created = not path.exists()
            handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            if not _try_lock(handle):
                os.close(handle)
                raise _in_use(folder)
            # a run that ended between our open and our lock removed the file we hold
            with contextlib.suppress(FileNotFoundError):
                if os.stat(path).st_ino == os.fstat(handle).st_ino:
                    break
            os.close(handle)
        previous: dict[str, Any] = {}
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            text = os.read(handle, 1 << 16).decode("utf-8")
            previous = json.loads(text) if text.strip() else {}
        return cls(path, handle, created, previous if isinstance(previous, dict) else {})

    def record(self, run_dir: Path) -> None:
        state = {"pid": os.getpid(), "host": socket.gethostname(), "started": now_iso()}
        data = json.dumps({**state, "run_dir": run_dir.name}).encode("utf-8")
        os.ftruncate(self.handle, 0)
        os.lseek(self.handle, 0, os.SEEK_SET)
        os.write(self.handle, data)

    def release(self, *, remove: bool = True) -> None:
        if remove:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        os.close(self.handle)


class RunFolder:
    """A run folder claimed by one run (:meth:`claim`) or, on the other processes of a
    distributed run, a view of it (``lock`` is then ``None``).

    ``path`` is the user's folder; ``work`` the folder the run writes its files to (``path``,
    or its own folder when it replaces a previous run); ``run_dir`` its own folder.
    """

    def __init__(self, path: Path, run_dir: Path, staged: bool, lock: _Lock | None = None):
        self.path, self.run_dir, self.staged, self.lock = path, run_dir, staged, lock
        self.work = run_dir if staged else path

    @classmethod
    def claim(
        cls, out: str | os.PathLike[str], *, resume: bool = False, overwrite: bool = False
    ) -> RunFolder:
        """Check ``out`` (:func:`check_run_folder`), create it, lock it and create the run's
        own folder in it; removes what a killed run left of its own folder."""
        path = _check_run_folder(out, resume=resume, overwrite=overwrite)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise RunFolderError(f"cannot create {path}: {error.strerror}") from None
        try:
            lock = _Lock.acquire(path)
        except OSError as error:
            raise RunFolderError(f"cannot lock {path / LOCK_NAME}: {error.strerror}") from None
        try:
            _check_contents(path, resume=resume, overwrite=overwrite)  # again, under the lock
            left = str(lock.previous.get("run_dir", ""))
            if left.startswith(RUN_DIR_PREFIX) and os.sep not in left and "/" not in left:
                shutil.rmtree(path / left, ignore_errors=True)
            staged = overwrite and bool(previous_run_files(path))
            run_dir = Path(tempfile.mkdtemp(prefix=RUN_DIR_PREFIX, dir=path))
            lock.record(run_dir)
        except BaseException:
            lock.release(remove=lock.created)
            raise
        return cls(path, run_dir, staged, lock)

    def file(self, name: str) -> Path:
        """Where the run writes (and reads back) its file ``name``."""
        return self.work / name

    def save(self, obj: Any, name: str) -> Path:
        return atomic_save(obj, self.file(name), temp_dir=self.run_dir)

    def write_json(self, obj: Any, name: str) -> Path:
        return atomic_write_json(obj, self.file(name), temp_dir=self.run_dir)

    def write_text(self, text: str, name: str) -> Path:
        return atomic_write_text(text, self.file(name), temp_dir=self.run_dir)

    def kept_after_failure(self) -> str:
        """What a failed run leaves, for its error message."""
        if self.staged:
            return f"{self.path} keeps its previous run unchanged"
        if (self.path / LAST).is_file():
            return f"the last good checkpoint, {self.path / LAST}, is kept"
        return "no checkpoint had been written yet"

    def publish(self) -> None:
        """End a successful run: move a replacing run's files into place together (the
        previous ``results.json`` goes first, the new one last), then release the folder."""
        if self.lock is None:
            return
        if self.staged:
            with contextlib.suppress(FileNotFoundError):
                (self.path / RESULTS_JSON).unlink()
            for name in RUN_FILES:
                if not (self.run_dir / name).exists():
                    with contextlib.suppress(FileNotFoundError):
                        (self.path / name).unlink()
            for name in RUN_FILES:
                if (self.run_dir / name).exists():
                    os.replace(self.run_dir / name, self.path / name)
        self._end()

    def abandon(self) -> None:
        """End a failed run: remove its own folder (and so a replacing run's files)."""
        if self.lock is not None:
            self._end()

    def _end(self) -> None:
        shutil.rmtree(self.run_dir, ignore_errors=True)
        lock, self.lock = self.lock, None
        if lock is not None:
            lock.release()


@contextlib.contextmanager
def claimed_run_folder(
    out: str | os.PathLike[str], *, resume: bool, overwrite: bool, env: DistEnv
) -> Iterator[RunFolder]:
    """Claim ``out`` on the main process and share it with the others; publish it when the
    block ends normally, abandon it when it raises."""
    folder, failure = None, None
    if env.is_main:
        try:
            folder = RunFolder.claim(out, resume=resume, overwrite=overwrite)
        except RunFolderError as error:
            failure = error
    mine: str | tuple[str, bool] | None = None
    if failure is not None:
        mine = str(failure)
    elif folder is not None:
        mine = (str(folder.run_dir), folder.staged)
    shared = broadcast_object(mine, env)
    if failure is not None:
        raise failure
    if isinstance(shared, str):
        raise RunFolderError(shared)
    if folder is None:
        folder = RunFolder(Path(out), Path(shared[0]), shared[1])
    try:
        yield folder
    except BaseException:
        folder.abandon()
        raise
    folder.publish()


def check_new_run_folders(folders: Iterable[str | os.PathLike[str]]) -> None:
    """Check the run folders a study or sweep is about to train into, before it trains any:
    each must be usable and hold no previous run (a study never replaces runs)."""
    for folder in folders:
        path = check_out_path(folder)
        found = previous_run_files(path) if path.is_dir() else []
        if found:
            raise PreviousRunError(
                f"{path} holds a previous run ({', '.join(found)}); give the study a new "
                "out_dir or move that run away (a study never replaces runs)"
            )
