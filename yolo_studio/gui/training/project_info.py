"""What the panel asks of a project and its run folders, tolerant of partial or damaged runs."""
from __future__ import annotations

from yolo_studio.core.checkpoint_files import checkpoint_files, is_checkpoint
from yolo_studio.core.training import runs


def count_labelled_train(project) -> int:
    """Labelled images in the training split (sizes the default batch and epochs)."""
    try:
        train, _ = project.split()
        return sum(1 for p in train if project.has_labels(p))
    except Exception:  # noqa: BLE001 - a default is only a suggestion; never block the panel
        return 0


def list_runs(project) -> tuple[list, str | None]:
    """The project's runs, and a message if they could not all be read."""
    try:
        return list(runs.list_runs(project)), None
    except Exception as e:  # noqa: BLE001 - a damaged run folder must not break the panel
        return [], f"Could not list the runs in {project.runs_dir}: {e}"


def has_last_checkpoint(project) -> bool:
    """True when some run of the project has a 'last' checkpoint to retrain from."""
    try:
        return runs.latest_checkpoint(project, kind="last") is not None
    except Exception:  # noqa: BLE001
        return False


def checkpoint_in(run_dir, kind: str) -> str | None:
    """The path of a run's 'best' or 'last' weights file, if the checkpoint is complete."""
    stem = runs.run_checkpoint(run_dir, kind)
    return str(checkpoint_files(stem)[0]) if is_checkpoint(stem) else None


def weights_file(checkpoint) -> str | None:
    """The .weights.h5 file of a checkpoint given as a stem, .json or .weights.h5 path."""
    return str(checkpoint_files(checkpoint)[0]) if checkpoint else None
