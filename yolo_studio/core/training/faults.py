"""Faults that end a run cleanly: a full disk, a run or project folder gone, no readable image.

Each becomes a :class:`TrainingFault` whose message names the folder or file
and says what was kept, so the trainer ends "failed" with that message
instead of a traceback (or a crash), and never re-creates a folder the user
deleted or moved.
"""
from __future__ import annotations

import contextlib
import errno
from pathlib import Path

from yolo_studio.core.checkpoint_files import is_checkpoint
from yolo_studio.core.errors import YoloStudioError

from . import runs

RESUME_HINT = "resume it (yolo-studio train PROJECT --resume, or Resume in the Training panel)"


class TrainingFault(YoloStudioError):
    """Training cannot go on; the message says why and what was kept."""


def project_gone(project_root) -> TrainingFault | None:
    """A fault when the project folder has disappeared (moved, renamed, unmounted)."""
    root = Path(project_root)
    if root.is_dir():
        return None
    return TrainingFault(
        f"{root}: the project folder is gone (moved, renamed or unmounted while training), so "
        "training stopped; nothing was written elsewhere. Its runs/ folder went with it: open the "
        f"project where it is now and {RESUME_HINT}")


def check_folders(run_dir, project_root) -> None:
    """Raise TrainingFault if the project or the run folder is gone; never re-create them."""
    gone = project_gone(project_root)
    if gone is not None:
        raise gone
    run_dir = Path(run_dir)
    if not run_dir.is_dir() or not (run_dir / runs.CONFIG_FILE).is_file():
        what = "run folder" if not run_dir.is_dir() else f"run folder's {runs.CONFIG_FILE}"
        raise TrainingFault(
            f"{run_dir}: the {what} was deleted or moved while training, so training stopped "
            "and nothing was re-created there. Start a new run (its checkpoints went with the folder)")


@contextlib.contextmanager
def writing(run_dir, project_root, what: str):
    """Around one save of a run: the folders must still be there, and an OSError becomes a fault.

    Every save is atomic (a temp file, then a rename), so a failed one leaves
    the previous checkpoint, resume state and results.csv as they were.
    """
    check_folders(run_dir, project_root)
    try:
        yield
    except OSError as e:
        raise write_fault(e, run_dir, project_root, what) from None


def write_fault(e: BaseException, run_dir, project_root, what: str) -> TrainingFault:
    """The fault for a failed write of ``what`` into ``run_dir``."""
    gone = project_gone(project_root)
    if gone is not None:
        return gone
    code = getattr(e, "errno", None)
    text = str(e)
    full = code in (errno.ENOSPC, errno.EDQUOT) or "No space left" in text or "quota" in text.lower()
    last = runs.run_checkpoint(run_dir, "last")
    kept = (f"{last}.weights.h5 and the resume state of the last completed save are kept"
            if is_checkpoint(last) else "no earlier checkpoint existed")
    if full:
        return TrainingFault(
            f"{run_dir}: the disk is full; training stopped while writing {what}. Nothing was "
            f"half-written: {kept}. Free some space, then {RESUME_HINT}")
    reason = getattr(e, "strerror", None) or (text.splitlines()[0] if text else type(e).__name__)
    return TrainingFault(
        f"{run_dir}: cannot write {what} ({reason}); training stopped. {kept[0].upper()}{kept[1:]}. "
        f"Fix the folder (permissions, mount), then {RESUME_HINT}")


def data_fault(project_root, sources) -> TrainingFault | None:
    """The fault when a split has no readable image left (the images moved or were deleted)."""
    gone = project_gone(project_root)
    if gone is not None:
        return gone
    for source in sources:
        failure = getattr(source, "failure", None)
        if failure is not None:
            return TrainingFault(
                f"{failure}; none of the {len(source)} images of this split can be read any more "
                "(moved, deleted or unmounted while training?), so training stopped. "
                f"Put them back, then {RESUME_HINT}")
    return None
