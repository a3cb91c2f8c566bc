"""What the panel asks of a project and its run folders, tolerant of partial or damaged runs."""
from __future__ import annotations

import csv
from pathlib import Path

WEIGHTS_SUFFIX = ".weights.h5"
BATCH_FILES = ("batches.csv", "batch_history.csv")   # per-batch history, if the trainer keeps one


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
        from yolo_studio.core.training import runs
        return list(runs.list_runs(project)), None
    except ImportError:
        return [], None
    except Exception as e:  # noqa: BLE001 - a damaged run folder must not break the panel
        return [], f"Could not list the runs in {getattr(project, 'runs_dir', 'runs/')}: {e}"


def has_last_checkpoint(project) -> bool:
    """True when some run of the project has a 'last' checkpoint to retrain from."""
    try:
        from yolo_studio.core.training import runs
        return runs.latest_checkpoint(project, kind="last") is not None
    except Exception:  # noqa: BLE001
        return False


def checkpoint_in(run_dir, kind: str) -> str | None:
    """The path of a run's 'best' or 'last' weights file, if the checkpoint is complete."""
    stem = Path(run_dir) / "weights" / kind
    weights = stem.with_name(kind + WEIGHTS_SUFFIX)
    ok = weights.is_file() and stem.with_name(kind + ".json").is_file()
    return str(weights) if ok else None


def weights_file(checkpoint) -> str | None:
    """The .weights.h5 file of a checkpoint given as a stem, .json or .weights.h5 path."""
    if not checkpoint:
        return None
    p = Path(checkpoint)
    for suffix in (WEIGHTS_SUFFIX, ".json"):
        if p.name.endswith(suffix):
            p = p.with_name(p.name[: -len(suffix)])
    return str(p.with_name(p.name + WEIGHTS_SUFFIX))


def read_batches(run_dir) -> list[dict]:
    """Per-batch rows of a run if the trainer kept them, else []."""
    for name in BATCH_FILES:
        path = Path(run_dir) / name
        if path.is_file():
            try:
                with path.open(newline="", encoding="utf-8") as f:
                    return list(csv.DictReader(f))
            except (OSError, csv.Error, UnicodeDecodeError):
                return []
    return []
