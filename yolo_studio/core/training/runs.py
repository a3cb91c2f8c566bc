"""Run folders: their names, config and history, and the latest checkpoints."""
from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from yolo_studio.core.atomic import atomic_write_text
from yolo_studio.core.checkpoint_files import is_checkpoint
from yolo_studio.core.training_data import TrainingData

CONFIG_FILE = "config.json"
RESULTS_FILE = "results.csv"
WEIGHTS_DIR = "weights"
RESUME_DIR = "resume"
TENSORBOARD_DIR = "tensorboard"
RESULT_COLUMNS = ["epoch", "train/box_loss", "train/obj_loss", "train/cls_loss", "train/loss",
                  "val/box_loss", "val/obj_loss", "val/cls_loss", "val/loss",
                  "metrics/mAP50", "metrics/mAP50-95", "lr", "seconds"]


@dataclass
class RunInfo:
    """One run folder and what it holds."""

    name: str
    path: Path
    config: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)


def runs_dir(project: TrainingData) -> Path:
    """The project's runs folder."""
    return Path(project.runs_dir)


def new_run_dir(project, model: str) -> Path:
    """A fresh ``runs/<yyyymmdd-hhmmss>-<model>`` folder (suffixed if that second is taken)."""
    base = runs_dir(project)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = base / f"{stamp}-{model}"
    k = 2
    while path.exists():
        path = base / f"{stamp}-{model}-{k}"
        k += 1
    path.mkdir(parents=True)
    return path


def read_history(run_dir) -> list[dict]:
    """Rows of ``results.csv``, numbers as floats (None where empty); [] if absent."""
    path = Path(run_dir) / RESULTS_FILE
    if not path.is_file():
        return []
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            rows.append({k: _number(v) for k, v in row.items() if k})
    return rows


def _number(v):
    if v is None or v == "":
        return None
    try:
        f = float(v)
    except ValueError:
        return v
    return int(f) if f.is_integer() and "." not in v else f


def append_history(run_dir, row: dict) -> None:
    """Add one epoch's row to ``results.csv`` (header on first write).

    The whole file is rewritten atomically (it is a few KB): a kill or a full
    disk mid-write leaves the previous file, never a half row.
    """
    _write_history(run_dir, read_history(run_dir) + [row])


def truncate_history(run_dir, epochs_done: int) -> None:
    """Drop rows past ``epochs_done`` (an epoch that a crash cut short, before a resume)."""
    rows = read_history(run_dir)
    kept = [r for r in rows if r.get("epoch") is not None and r["epoch"] < epochs_done]
    if kept != rows:
        _write_history(run_dir, kept)


def _write_history(run_dir, rows: list[dict]) -> None:
    out = io.StringIO(newline="")
    w = csv.DictWriter(out, fieldnames=RESULT_COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for row in rows:
        w.writerow({k: ("" if row.get(k) is None else row[k]) for k in RESULT_COLUMNS})
    atomic_write_text(Path(run_dir) / RESULTS_FILE, out.getvalue())


def remove_orphan_temps(run_dir) -> list[Path]:
    """Delete temp files that a killed save left in the run folder; returns them.

    Only names our atomic writers make (``.<name>.<random>.tmp`` and Keras'
    ``.<stem>.<pid>.tmp.weights.h5``) are touched, never anything else.
    """
    removed = []
    for folder in (Path(run_dir), Path(run_dir) / WEIGHTS_DIR):
        if not folder.is_dir():
            continue
        for p in folder.iterdir():
            if p.name.startswith(".") and (p.name.endswith(".tmp") or ".tmp." in p.name) and p.is_file():
                p.unlink()
                removed.append(p)
    return removed


def write_run_config(run_dir: Path, config, extra: dict) -> None:
    """``config.json``: the TrainConfig plus facts about the data (atomic)."""
    atomic_write_text(Path(run_dir) / CONFIG_FILE, json.dumps({**config.to_dict(), **extra}, indent=2))


def read_config(run_dir) -> dict:
    """The run's ``config.json`` as a dict ({} if missing or unreadable)."""
    try:
        return json.loads((Path(run_dir) / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def list_runs(project) -> list[RunInfo]:
    """Every run of the project, oldest first."""
    base = runs_dir(project)
    if not base.is_dir():
        return []
    out = []
    for d in sorted(p for p in base.iterdir() if p.is_dir() and (p / CONFIG_FILE).exists()):
        out.append(RunInfo(d.name, d, read_config(d), read_history(d)))
    return out


def run_checkpoint(run_dir, kind: str) -> Path:
    """Where a run keeps its 'last' or 'best' weights (a checkpoint stem)."""
    return Path(run_dir) / WEIGHTS_DIR / kind


def latest_checkpoint(project, kind: str = "best") -> Path | None:
    """The newest run's ``weights/<kind>`` checkpoint stem (or its other kind), None if no run has one."""
    if kind not in ("best", "last"):
        raise ValueError(f"kind must be 'best' or 'last', got {kind!r}")
    other = "last" if kind == "best" else "best"
    for run in reversed(list_runs(project)):
        for k in (kind, other):
            stem = run_checkpoint(run.path, k)
            if is_checkpoint(stem):
                return stem
    return None


def latest_resumable(project) -> Path | None:
    """The newest run folder with resume state in it."""
    for run in reversed(list_runs(project)):
        if (run.path / RESUME_DIR / "checkpoint").is_file():
            return run.path
    return None
