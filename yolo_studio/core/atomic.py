"""Atomic file writes.

Labels are the user's work: a crash or power cut in the middle of a save must
leave either the old file or the new one, never a truncated mix. We write a
temporary file in the same folder (same filesystem, so the rename is atomic),
flush it to disk, then os.replace it over the target.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old or the new file, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes 0600 files; labels must stay readable like the file they
        # replace (or as a plain open() would create them, under the umask).
        if hasattr(os, "fchmod"):
            os.fchmod(fd, _target_mode(path))
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _target_mode(path: Path) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> None:
    """Text flavour of :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode(encoding))


def atomic_replace_file(tmp_path: str | Path, path: str | Path) -> None:
    """Move a finished temporary file (e.g. written by Keras) over ``path`` atomically."""
    os.replace(tmp_path, path)
