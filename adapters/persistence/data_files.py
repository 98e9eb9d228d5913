"""Files and folders that hold the data are its owner's only: folders 0700, files 0600.

The event log holds every id and email, and the views and metrics files as much. SQLite gives the
-wal, -shm and -journal files it creates the mode of their database file, so creating the
database files 0600 (and tightening those an earlier version left readable) covers them all."""

from __future__ import annotations

import logging
import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600
SQLITE_FILES = ("events.db", "views.db")
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")

log = logging.getLogger("orgledger")


def private_folder(path: Path) -> None:
    """Create `path` (and its parents) if missing, the folder itself 0700. An existing folder
    keeps the mode its operator gave it: the files in it are private anyway."""
    if not path.exists():
        path.mkdir(parents=True, mode=FOLDER_MODE, exist_ok=True)
        path.chmod(FOLDER_MODE)  # mkdir's mode passes through the umask


def private_file(path: Path) -> None:
    """Create `path` empty and 0600 if missing; make it 0600 if it is more open."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE))
    tighten(path)


def tighten(path: Path) -> None:
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(FILE_MODE)
    except FileNotFoundError:
        pass
    except PermissionError:
        log.warning("%s is readable by others and not ours to change: chmod 600 it", path)


def prepare_sqlite_data(folder: Path) -> None:
    """The data folder and the SQLite files in it, private before SQLite opens them."""
    private_folder(folder)
    for name in SQLITE_FILES:
        private_file(folder / name)  # an empty file is an empty SQLite database
        for suffix in SQLITE_SUFFIXES[1:]:
            tighten(folder / f"{name}{suffix}")


def open_private(path: Path) -> int:
    """A file descriptor for writing `path` anew, created 0600 (an export of the log)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    tighten(path)
    return fd
