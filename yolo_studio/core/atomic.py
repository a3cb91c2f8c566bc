"""Atomic file writes, and changes to several files that land together.

Labels are the user's work: a crash or power cut in the middle of a save must
leave either the old file or the new one, never a truncated mix. We write a
temporary file in the same folder (same filesystem, so the rename is atomic),
flush it to disk, then os.replace it over the target.

Some changes span files whose meanings depend on each other (a YOLO txt and
classes.txt; a txt and its sidecar). :func:`write_together` stages every new
file first, then records the plan in a small journal in the project root, and
only then renames; :func:`finish_interrupted` replays a journal left by a
killed process (roll forward), so the files never mix two states.

Project writes never create folders: a project folder that has gone (moved,
unmounted) must not be silently re-created as a ghost that receives the edits.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import time
import uuid
from pathlib import Path

from .errors import ConfigError, YoloStudioError

# One journal per step (".yolo_studio.journal-<random>.json"), so two processes
# writing to one project (the GUI and a CLI command) never overwrite each other's.
JOURNAL_PREFIX = ".yolo_studio.journal-"
JOURNAL_GLOB = JOURNAL_PREFIX + "*.json"
# Our temporary files: ".<target name>.ys-<8 random>.tmp". Only names like these,
# for file types we write, are ever cleaned up. Older versions' ".<name>.<8>.tmp"
# are not: ".notes.txt.backup01.tmp" is a person's file with that very shape.
_TEMP_NAME = re.compile(r"^\.(?P<target>.+\.(?:xml|txt|json|jpe?g|png|bmp))\.ys-[a-z0-9_]{8}\.tmp$",
                        re.IGNORECASE)
# A temporary file this young may belong to a save in progress in another
# process (the GUI and a CLI command on one project); older ones are orphans.
ORPHAN_AGE_S = 30.0


class MissingFolderError(YoloStudioError, FileNotFoundError):
    """The folder a file should be saved in does not exist (moved, unmounted, deleted)."""

    def __init__(self, folder: Path, target: Path):
        self.folder = folder
        super().__init__(f"{folder}: folder not found (moved, renamed or unmounted?); "
                         f"{target.name} was not saved and nothing was written elsewhere")

    def __str__(self) -> str:  # OSError would format errno/strerror instead of our sentence
        return str(self.args[0])


class ReadOnlyFileError(YoloStudioError, PermissionError):
    """The file to replace allows no writing: its owner protected it, so it is left as it is."""

    def __init__(self, target: Path):
        super().__init__(f"{target}: is read-only (its permissions allow no writing), so it was not "
                         "replaced and nothing was saved; make it writable to save here")

    def __str__(self) -> str:
        return str(self.args[0])


def refuse_read_only(path: Path) -> None:
    """ReadOnlyFileError when ``path`` exists with no write permission bit at all.

    A rename over a file needs only the folder's permission (and root needs
    none), so an atomic save would replace a file its owner made read-only.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if not mode & 0o222:
        raise ReadOnlyFileError(path)


def atomic_write_bytes(path: str | Path, data: bytes, make_parents: bool = True) -> None:
    """Write ``data`` to ``path`` so readers see the old or the new file, never half.

    ``make_parents`` creates missing folders, for outputs (export, convert)
    that make a new folder. Project files pass False (via write_together): a
    project whose folder has gone gets MissingFolderError, not a ghost copy.
    """
    path = Path(path)
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    path = through_link(path)
    tmp = _stage(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise


def through_link(path: Path) -> Path:
    """The file a symbolic link at ``path`` points to (else ``path``): a save edits that file and
    keeps the user's link, where a rename onto the link would replace it with a copy."""
    return Path(os.path.realpath(path)) if os.path.islink(path) else path


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8",
                      make_parents: bool = True) -> None:
    """Text flavour of :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode(encoding), make_parents)


def _stage(path: Path, data: bytes) -> Path:
    """A flushed temporary copy of ``data`` next to ``path``, with the mode ``path`` will have."""
    if not path.parent.is_dir():
        raise MissingFolderError(path.parent, path)
    refuse_read_only(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.ys-", suffix=".tmp", dir=path.parent)
    except FileNotFoundError:
        raise MissingFolderError(path.parent, path) from None
    try:
        # mkstemp makes 0600 files; labels must stay readable like the file they
        # replace (or as a plain open() would create them, under the umask).
        if hasattr(os, "fchmod"):
            os.fchmod(fd, _target_mode(path))
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        _unlink(Path(tmp))
        raise
    return Path(tmp)


def _target_mode(path: Path) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process's umask, read without setting it where the system says it (Linux: a write
    on another thread, such as the COCO column cache's, must never see a umask of 0)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    # Elsewhere the umask can only be read by setting it: set a strict one for that moment, so a
    # file another thread makes meanwhile is private rather than world-writable.
    umask = os.umask(0o077)
    os.umask(umask)
    return umask


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# --- several files as one change -------------------------------------------------

def write_together(root: str | Path, changes: dict) -> None:
    """Apply ``changes`` ({path: bytes, or None to delete}) so that they land together.

    A crash part-way leaves a journal in ``root`` that :func:`finish_interrupted`
    completes on the next open; before the journal exists nothing has changed.
    """
    root = Path(root)
    changes = {Path(p) if d is None else through_link(Path(p)): d for p, d in changes.items()}
    writes = [(p, d) for p, d in changes.items() if d is not None]
    if len(changes) == 1 and writes:
        atomic_write_bytes(*writes[0], make_parents=False)  # one file is already atomic on its own
        return
    journal = root / f"{JOURNAL_PREFIX}{uuid.uuid4().hex[:12]}.json"
    if not root.is_dir():
        raise MissingFolderError(root, journal)
    for path, data in changes.items():
        if data is None:
            refuse_read_only(path)     # a deletion too (writes check in _stage)
    steps: list[tuple[Path, Path | None]] = []
    try:
        for path, data in changes.items():
            steps.append((path, None if data is None else _stage(path, data)))
        plan = {"version": 1, "steps": [{"target": _rel(t, root), "staged": s and _rel(s, root)}
                                        for t, s in steps]}
        atomic_write_text(journal, json.dumps(plan, indent=1) + "\n", make_parents=False)
    except BaseException:
        for _target, staged in steps:
            if staged is not None:
                _unlink(staged)
        raise
    _commit(journal, steps)


def _commit(journal: Path, steps: list[tuple[Path, Path | None]]) -> None:
    for target, staged in steps:
        if staged is None:
            try:
                os.unlink(target)
            except FileNotFoundError:
                pass
        else:
            try:
                os.replace(staged, target)
            except FileNotFoundError:
                if staged.exists():
                    raise
                # already moved (by an earlier, interrupted run of this same plan)
    _fsync_dirs({t.parent for t, _ in steps})
    try:
        os.unlink(journal)
    except FileNotFoundError:
        pass  # another process finished this same step


def journals(root: str | Path) -> list[Path]:
    """Journals of interrupted (or in-flight) steps in ``root``, oldest first."""
    found = []
    for path in Path(root).glob(JOURNAL_GLOB):
        try:
            found.append((path.stat().st_mtime, path))
        except OSError:
            continue
    return [p for _, p in sorted(found)]


def finish_interrupted(root: str | Path) -> bool:
    """Complete the steps killed processes left half-done in ``root``; True if there were any.

    Rolling forward is safe to repeat, and safe while the step's own process
    is still committing it: a staged file already moved is simply done.
    """
    root = Path(root)
    found = journals(root)
    for journal in found:
        try:
            plan = json.loads(journal.read_text(encoding="utf-8"))
            steps = [(_abs(s["target"], root), None if s["staged"] is None else _abs(s["staged"], root))
                     for s in plan["steps"]]
        except FileNotFoundError:
            continue  # finished meanwhile by its own process
        except (ValueError, KeyError, TypeError, AttributeError, OSError) as e:
            raise ConfigError(f"{journal}: an interrupted change is recorded here but the record "
                              f"cannot be read ({e}); the label files may be half-changed. Check "
                              "them, then delete this file") from None
        odd = [t for t, s in steps if not _plausible_step(t, s)]
        if odd:
            # A journal is only a list of renames we staged ourselves; one that
            # names anything else (edited by hand, or planted in a shared
            # project to delete or replace files outside it) is never replayed.
            raise ConfigError(f"{journal}: this record of an interrupted change names files YOLO Studio "
                              f"never stages this way ({', '.join(str(t) for t in odd[:3])}), so nothing "
                              "in it was done. Check the label files, then delete this file")
        try:
            _commit(journal, steps)
        except OSError as e:
            raise ConfigError(f"{journal}: an interrupted change could not be finished "
                              f"({e.strerror or e}); is the folder read-only?") from None
    return bool(found)


# The only files a step deletes: a YOLO txt's sidecar (".<stem>.yolo_studio.json")
# that would describe a replaced label (see formats.yolo_txt.yolo_files).
_DELETABLE_NAME = re.compile(r"^\..+\.yolo_studio\.json$")


def _plausible_step(target: Path, staged: Path | None) -> bool:
    """True when a journal step is one write_together makes: our staged temp file moved over
    its sibling target, or a sidecar deleted."""
    if staged is None:
        return _DELETABLE_NAME.match(target.name) is not None
    m = _TEMP_NAME.match(staged.name)
    return (m is not None and staged.name.startswith(f".{target.name}.")
            and m.group("target") == target.name and staged.parent == target.parent)


def _rel(path: Path, root: Path) -> str:
    # Relative, so a project moved after a crash still finds its staged files.
    try:
        return Path(os.path.relpath(path.absolute(), root.absolute())).as_posix()
    except ValueError:  # another drive on Windows
        return str(path.absolute())


def _abs(rel: str, root: Path) -> Path:
    if not isinstance(rel, str):
        raise TypeError(f"path {rel!r} is not text")
    return Path(os.path.normpath(root.absolute() / rel))


def _fsync_dirs(folders) -> None:
    # The renames themselves must reach the disk before the journal goes.
    if os.name != "posix":
        return
    for folder in folders:
        try:
            fd = os.open(folder, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)


def is_our_temp_file(name: str) -> bool:
    """True for the name of a temporary file our atomic writes make."""
    return _TEMP_NAME.match(name) is not None


def remove_orphan_temps(folder: str | Path, min_age_s: float = ORPHAN_AGE_S) -> list[Path]:
    """Delete temporary files a killed save left in ``folder``; returns those removed.

    Only our own temp-name pattern is touched, and only files older than
    ``min_age_s`` (a younger one may be a save in progress elsewhere).
    """
    removed = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for e in entries:
        if not is_our_temp_file(e.name):
            continue
        try:
            if not e.is_file(follow_symlinks=False) or now - e.stat().st_mtime < min_age_s:
                continue
            os.unlink(e.path)
        except OSError:
            continue  # read-only or vanished: leave it
        removed.append(Path(e.path))
    return removed
