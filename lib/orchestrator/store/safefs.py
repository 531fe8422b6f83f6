"""Opening state files without following symbolic links.

A cloned repository can hold anything where the state goes: ``.claude`` itself, a run's
folder, its lock or its log may be a symbolic link to a file of the user's (``~/.bashrc``).
So every file the engine writes, locks or reads back as state is reached one directory at
a time from ``/``: each component is opened with ``O_DIRECTORY|O_NOFOLLOW`` relative to
the one before it, and the file itself with ``O_NOFOLLOW``. A link anywhere on the way is
refused with UnsafePath (exit 2): never followed, never removed.

Starting at ``/`` is what "from the project root" amounts to: the paths handed in here are
built on the project root and ``$ORCHESTRATE_STATE_DIR``, which are resolved when they are
found (the user's own links followed once, by choice), so nothing above them is a link.

Opening costs one ``openat`` per component: what is written often (the journal, logs) is
opened once and its descriptor kept.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

from orchestrator.errors import EXIT_BAD_INPUT, OrchestrateError

__all__ = ["UnsafePath", "open_dir", "ensure_dir", "open_at", "open_file",
           "open_for_append", "open_for_write", "write_all", "write_atomic", "read_regular",
           "read_tail", "probe", "list_dir", "refuse_links", "fsync_dir"]

# Enough to look names up in (no read permission needed); O_RDONLY where there is no O_PATH.
_SEARCH = getattr(os, "O_PATH", os.O_RDONLY)
_DIR = os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafePath(OrchestrateError):
    """A symbolic link where a state file or folder belongs; it is left as it is."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, path, action: str = "write"):
        self.path = str(path)
        self.action = action
        super().__init__(f"refusing to {action} through a symbolic link: {self.path} (the "
                         f"repository may have planted it); remove it and try again")


def _split(path) -> tuple[str, list[str]]:
    absolute = os.path.abspath(os.fspath(path))
    return absolute, [part for part in absolute.split(os.sep) if part]


def _refusal(folder: int, name: str, label: str, action: str, error: OSError) -> Exception:
    """UnsafePath when ``name`` (in the directory ``folder``) is a link, else ``error``
    naming the whole path."""
    with contextlib.suppress(OSError):
        if stat.S_ISLNK(os.lstat(name, dir_fd=folder).st_mode):
            return UnsafePath(label, action)
    return OSError(error.errno, error.strerror, label)


def _open_child(folder: int, name: str, flags: int, label: str, create: bool,
                action: str) -> int:
    try:
        return os.open(name, flags, dir_fd=folder)
    except FileNotFoundError as missing:
        if not create:
            raise _refusal(folder, name, label, action, missing) from None
    except OSError as error:
        raise _refusal(folder, name, label, action, error) from None
    with contextlib.suppress(FileExistsError):  # someone else may make it at the same time
        os.mkdir(name, 0o777, dir_fd=folder)
    try:
        return os.open(name, flags, dir_fd=folder)
    except OSError as error:
        raise _refusal(folder, name, label, action, error) from None


def _walk(parts: list[str], create: bool, action: str, readable: bool) -> int:
    """A descriptor of the directory ``/parts...``, reached without following a link;
    ``readable`` (for fsync, listing, flock) or only good to open names in."""
    here = os.sep
    fd = os.open(here, (os.O_RDONLY if readable and not parts else _SEARCH)
                 | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for index, name in enumerate(parts):
            here = os.path.join(here, name)
            last = index == len(parts) - 1
            child = _open_child(fd, name, (os.O_RDONLY if readable and last else _SEARCH)
                                | _DIR, here, create, action)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_dir(path, *, create: bool = False, action: str = "write") -> int:
    """A read-only descriptor of the directory ``path`` (made, with missing parents, when
    ``create``). UnsafePath when it, or a folder above it, is a symbolic link."""
    return _walk(_split(path)[1], create, action, readable=True)


def ensure_dir(path) -> Path:
    """Make the directory ``path`` and its missing parents, refusing links on the way."""
    os.close(open_dir(path, create=True))
    return Path(path)


def open_at(folder: int, name: str, flags: int, mode: int = 0o644, *, label,
            action: str = "write") -> int:
    """``name`` in the directory ``folder`` (a descriptor), never through a link;
    ``label`` is its full path, for messages."""
    try:
        return os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=folder)
    except OSError as error:
        raise _refusal(folder, name, str(label), action, error) from None


def open_file(path, flags: int, mode: int = 0o644, *, create_dirs: bool = False,
              action: str = "write") -> int:
    """``os.open(path, flags, mode)`` that follows no link on the way or at the end."""
    absolute, parts = _split(path)
    if not parts:
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), absolute)
    folder = _walk(parts[:-1], create_dirs, action, readable=False)
    try:
        return open_at(folder, parts[-1], flags, mode, label=absolute, action=action)
    finally:
        os.close(folder)


def open_for_append(path, mode: int = 0o644, *, create_dirs: bool = False) -> int:
    """A descriptor appending to ``path`` (created if missing)."""
    return open_file(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, mode,
                     create_dirs=create_dirs)


def open_for_write(path, mode: int = 0o644, *, create_dirs: bool = False) -> int:
    """A descriptor writing ``path`` from empty (created if missing, else truncated)."""
    return open_file(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode,
                     create_dirs=create_dirs)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _refuse_link_at(folder: int, name: str, label: str, action: str) -> None:
    try:
        mode = os.lstat(name, dir_fd=folder).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(mode):
        raise UnsafePath(label, action)


def write_atomic(path, data: bytes, mode: int = 0o600, *, create_dirs: bool = False) -> None:
    """Replace ``path`` with ``data``: readers see the old file or the new one, never a mix.

    The temporary file gets a random name and is created exclusively; a link at ``path``
    is refused rather than replaced. The file and its directory are fsynced.
    """
    absolute, parts = _split(path)
    name = parts[-1]
    folder = _walk(parts[:-1], create_dirs, "write", readable=True)
    try:
        for _ in range(100):
            temp = f".{name}.{os.urandom(6).hex()}.tmp"
            try:
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                             | os.O_CLOEXEC, mode, dir_fd=folder)
                break
            except FileExistsError:
                continue
        else:  # pragma: no cover - 100 random names taken
            raise FileExistsError(errno.EEXIST, "no free temporary name", absolute)
        try:
            try:
                write_all(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            _refuse_link_at(folder, name, absolute, "write")
            os.replace(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp, dir_fd=folder)
            raise
        os.fsync(folder)
    finally:
        os.close(folder)


def read_regular(path, *, limit: int | None = None) -> bytes:
    """The bytes of the regular file ``path`` (at most ``limit``), read without following
    a link. FileNotFoundError when it is missing."""
    fd = open_file(path, os.O_RDONLY | os.O_NONBLOCK, action="read")  # a FIFO must not block
    with os.fdopen(fd, "rb") as handle:
        kind = os.fstat(fd).st_mode
        if not stat.S_ISREG(kind):
            code = errno.EISDIR if stat.S_ISDIR(kind) else errno.EINVAL
            raise OSError(code, "not a regular file" if code == errno.EINVAL
                          else os.strerror(code), os.path.abspath(os.fspath(path)))
        return handle.read() if limit is None else handle.read(limit)


def read_tail(path, size: int) -> bytes:
    """The last ``size`` bytes of the regular file ``path``, read without following a link."""
    fd = open_file(path, os.O_RDONLY | os.O_NONBLOCK, action="read")
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", os.path.abspath(os.fspath(path)))
        return os.pread(fd, size, max(0, status.st_size - size))
    finally:
        os.close(fd)


def probe(path, action: str = "read") -> os.stat_result | None:
    """What is at ``path`` (its own status, not a link's target), None when it or a folder
    above it is missing. UnsafePath when a link is on the way or is ``path`` itself."""
    absolute, parts = _split(path)
    if not parts:
        return os.stat(os.sep)
    try:
        folder = _walk(parts[:-1], False, action, readable=False)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        status = os.lstat(parts[-1], dir_fd=folder)
    except (FileNotFoundError, NotADirectoryError):
        return None
    finally:
        os.close(folder)
    if stat.S_ISLNK(status.st_mode):
        raise UnsafePath(absolute, action)
    return status


def list_dir(path, *, action: str = "read") -> list[tuple[str, int]]:
    """The entries of the directory ``path`` as (name, mode of the entry itself), sorted;
    [] when it is missing (or a file is where it would be). UnsafePath when it, or a
    folder above it, is a link."""
    try:
        folder = open_dir(path, action=action)
    except (FileNotFoundError, NotADirectoryError):
        return []
    try:
        with os.scandir(folder) as entries:
            found = [(entry.name, entry.stat(follow_symlinks=False).st_mode)
                     for entry in entries]
    finally:
        os.close(folder)
    return sorted(found)


def refuse_links(path, action: str = "write") -> None:
    """UnsafePath naming the first symbolic link directly inside the directory ``path``
    (for folders where the engine makes none, so that one must have been planted)."""
    for name, mode in list_dir(path, action=action):
        if stat.S_ISLNK(mode):
            raise UnsafePath(Path(path) / name, action)


def fsync_dir(path) -> None:
    """Make a directory's entries (a new or renamed file) durable."""
    fd = open_dir(path)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
