"""The output folder: checked before anything is computed, locked while a run writes it, recovered after a crash, swapped in whole.

A run writes into a temporary folder beside the output folder and swaps it in by renaming folders,
so the output folder always holds one complete run (the previous one, or the new one). Around that:

* **checks first** (before the run measures anything): a file where a folder should be, a folder
  that holds the run's inputs, a folder with files but no ``--overwrite``, a folder or parent that
  cannot be written, a symbolic link that points nowhere or to itself;
* **a lock**: ``.<name>.landplan.lock`` beside the folder, held (``flock``) while a run writes; a
  second run on the same folder is refused, told which run holds it (process, host, start time);
* **recovery**: a run killed between the two renames of the swap leaves no output folder and the
  previous one beside it as ``.<name>.landplan-…-old``; the next run puts it back before it starts,
  and removes the temporary folders killed runs left, saying so;
* **symbolic links are followed**, and said: ``--out`` naming a link to a folder writes into that
  folder (the link keeps pointing at it);
* **a full disk** ends with one message that says so and that the previous outputs are intact.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import LandplanError, OutputExistsError

log = logging.getLogger("landplan")

#: Prefix of the temporary folders beside an output folder (``.<name>.landplan-<random>``).
TMP_INFIX = ".landplan-"
#: Suffix of a previous output folder moved aside during a swap.
OLD_SUFFIX = "-old"


#: Lock files this process holds (their descriptors); closed in any child it forks, so a worker left
#: running after its parent was killed never keeps a folder locked.
_HELD: set[int] = set()


def _close_held_in_child() -> None:
    for fd in list(_HELD):
        try:
            os.close(fd)
        except OSError:
            pass
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_held_in_child)


class OutputFolder:
    """An output folder a run holds (see the module notes); make one with :func:`output_folder`."""

    def __init__(self, path: Path, lock_fd: int, lock_path: Path) -> None:
        self.path = path
        self._fd = lock_fd
        self._lock_path = lock_path

    def new_temporary(self) -> Path:
        """A new empty folder beside the output folder (same file system, so the swap is a rename),
        with the permissions a folder made by the user would have."""
        tmp = Path(tempfile.mkdtemp(prefix=f".{self.path.name}{TMP_INFIX}", dir=self.path.parent))
        tmp.chmod(0o777 & ~_umask())  # mkdtemp makes it private
        return tmp

    def swap_in(self, tmp: Path, own: Iterable[str]) -> None:
        """Put the complete outputs in ``tmp`` in place of the output folder by renaming folders.

        The user's own files (names not in ``own``) are hard-linked into ``tmp`` first, then the
        folder is renamed aside and ``tmp`` renamed to it; a run killed between the two renames is
        recovered by the next (:func:`output_folder`).
        """
        out = self.path
        if not out.exists():
            os.replace(tmp, out)
            return
        keep = set(own)
        for entry in out.iterdir():
            if entry.name in keep:
                continue
            target = tmp / entry.name
            if entry.is_dir() and not entry.is_symlink():
                shutil.copytree(entry, target, symlinks=True, copy_function=_link_or_copy)
            else:
                _link_or_copy(str(entry), str(target))
        old = tmp.with_name(tmp.name + OLD_SUFFIX)
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)

    def release(self) -> None:
        """Let the folder go: the lock file is removed, then unlocked."""
        if self._fd < 0:
            return
        import fcntl

        try:
            self._lock_path.unlink(missing_ok=True)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            _HELD.discard(self._fd)
            self._fd = -1


@contextmanager
def output_folder(out: str | Path, *, overwrite: bool, inputs: Iterable[Path] = ()) -> Iterator[OutputFolder]:
    """Check ``out``, lock it, recover what a crashed run left beside it, and hold it while the block
    runs; refuse with one clear message (:class:`OutputExistsError` or :class:`LandplanError`)."""
    path = _resolve(Path(out))
    if path.exists() and not path.is_dir():
        raise OutputExistsError(f"output {out} is a file, not a folder; name a folder")
    parent = path.parent
    inputs = [Path(p).resolve() for p in inputs]
    if path.exists() and any(p.parent == path for p in inputs):
        raise OutputExistsError(f"output folder {out} holds the run's inputs; write the outputs to another folder")
    for place in (path, parent):
        if place.exists() and not os.access(place, os.W_OK):
            raise LandplanError(f"cannot write to {place}: it is read-only; choose a folder you can write to "
                                f"or change its permissions")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LandplanError(f"cannot write to {parent}: {exc.strerror}; choose a folder you can write to") from exc
    fd, lock_path = _lock(path)
    folder = OutputFolder(path, fd, lock_path)
    try:
        try:
            _recover(path)
        except OSError as exc:
            raise disk_error(exc, path) from exc
        if path.exists() and any(path.iterdir()) and not overwrite:
            raise OutputExistsError(f"output folder {out} is not empty; add --overwrite to replace landplan's files in it")
        yield folder  # what the block raises is its own (writing translates its own OSErrors: disk_error)
    finally:
        folder.release()


def disk_error(exc: OSError, out: Path) -> LandplanError:
    """One message for a write that failed: a full disk or quota says so, with the space left."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        try:
            free = shutil.disk_usage(out.parent).free / 1e6
            left = f" ({free:,.0f} MB free)"
        except OSError:
            left = ""
        return LandplanError(f"the disk holding {out} is full{left}: the outputs could not be written, and the previous "
                             f"outputs in {out} are intact (nothing was swapped in); free some space or choose another --out")
    where = f" ({exc.filename})" if exc.filename else ""
    return LandplanError(f"cannot write the outputs to {out}{where}: {exc.strerror or exc}; the previous outputs in {out} are intact")


def _resolve(out: Path) -> Path:
    """``out`` made absolute, a symbolic link followed (and said); a link that points nowhere or to
    itself is refused."""
    out = Path(os.path.abspath(out))
    if out.is_symlink():
        try:
            target = out.resolve(strict=True)
        except RuntimeError as exc:  # Python < 3.13 signals a loop so
            raise LandplanError(f"output {out} is a symbolic link that loops back on itself; point it at a folder") from exc
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise LandplanError(f"output {out} is a symbolic link that loops back on itself; point it at a folder") from exc
            raise LandplanError(f"output {out} is a symbolic link to {os.readlink(out)}, which does not exist; "
                                f"create that folder or name another --out") from exc
        log.info("output %s is a link to %s: writing there", out, target)
        return target
    try:
        return out.parent.resolve(strict=False) / out.name
    except (OSError, RuntimeError) as exc:
        raise LandplanError(f"output {out}: its folder cannot be resolved ({exc}); name another --out") from exc


def _lock(path: Path) -> tuple[int, Path]:
    """Hold ``.<name>.landplan.lock`` beside ``path`` (an exclusive ``flock``, freed by the system if the
    process dies); refuse when another run holds it, naming that run."""
    import fcntl

    lock = path.with_name(f".{path.name}.landplan.lock")
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = ""
            try:
                holder = os.read(fd, 512).decode("utf-8", "replace").strip()
            except OSError:
                pass
            os.close(fd)
            raise LandplanError(f"output folder {path} is being written by another run ({holder or 'unknown'}); wait for it "
                                f"to finish or choose another --out") from exc
        try:  # the file we locked must still be the lock file (a run that finished may have just removed it)
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    _HELD.add(fd)
    os.ftruncate(fd, 0)
    os.write(fd, f"process {os.getpid()} on {socket.gethostname()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}".encode())
    return fd, lock


def _recover(path: Path) -> None:
    """With the lock held, nothing beside ``path`` belongs to a live run: a previous output folder left
    aside by a run killed mid-swap is put back (when the folder is missing), and leftover temporary
    folders are removed; both are said."""
    prefix = f".{path.name}{TMP_INFIX}"
    left = sorted((p for p in path.parent.iterdir() if p.name.startswith(prefix) and p.is_dir()),
                  key=lambda p: p.stat().st_mtime)
    olds = [p for p in left if p.name.endswith(OLD_SUFFIX)]
    if not path.exists() and olds:
        back = olds.pop()  # the newest complete folder moved aside
        os.replace(back, path)
        left.remove(back)
        log.warning("%s: put back the previous outputs, which a run killed while swapping its outputs in had left aside as %s",
                    path, back.name)
    if left:
        for p in left:
            shutil.rmtree(p, ignore_errors=True)
        log.warning("%s: removed %d folder(s) left beside it by runs that were stopped before they finished (%s)", path, len(left),
                    ", ".join(p.name for p in left[:3]) + (" …" if len(left) > 3 else ""))


def _umask() -> int:
    """The process's umask, read without changing it (``/proc``), so no other thread sees it change."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


def _link_or_copy(src: str, dst: str) -> None:
    """Hard-link ``src`` to ``dst`` (same file, no copy), or copy it where links are not possible."""
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dst, follow_symlinks=False)
