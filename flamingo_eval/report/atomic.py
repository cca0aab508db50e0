"""Writing a file so that a reader never sees it half written.

A report or summary may be read (by another process, a notebook, a second report) while it is being
rewritten; writing to a temporary file in the same folder and renaming it over the target with
``os.replace`` (atomic on POSIX and Windows when both are on one file system, which the same folder
guarantees) means a reader sees either the old file or the new one, never a truncated mix.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path. The folder must exist.

    In: the target path and its full content. Out: the path written. A failure leaves the old file (if
    any) untouched and no temporary file behind.
    """
    target = Path(path)
    # The temporary file is hidden and named after the target, so a crash leaves an obvious stray.
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())  # the rename must not reach the disk before the data does
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` atomically; returns the path."""
    return write_bytes_atomic(path, text.encode("utf-8"))
