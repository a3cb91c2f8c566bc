"""Which unlabelled images of a project to label next, by the current model: the CLI's and labeller's entry point."""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from yolo_studio.core.errors import ConfigError, Problem, YoloStudioError

from . import cache, select
from .job import DEFAULT_BATCH, score_images
from .probe import ModelProbe, second_scale

# Labelled images scored as k-center centres, at most: enough to mark what is covered,
# without scoring thousands of labelled images again after every retrain.
MAX_CENTRES = 256


@dataclass
class Suggestion:
    """One image to label, with the signals that put it where it is."""

    image: Path
    uncertainty: float
    consistency: float


@dataclass
class SuggestResult:
    """The pool in suggestion order, and how it was made."""

    order: list[Suggestion]
    weights: Path
    scored_now: int = 0
    from_cache: int = 0
    cancelled: bool = False
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def is_labelled(project, image) -> bool:
    """True for an image a person has labelled: verified, or holding a box a person drew.

    An image with only a model's pre-labels is still unlabelled; one whose
    label file cannot be read counts as labelled (it may be someone's work).
    """
    if not project.has_labels(image):
        return False
    try:
        ann = project.load_annotation(image)
    except YoloStudioError:
        return True
    return bool(ann.verified or any(not b.predicted for b in ann.boxes))


def default_weights(project) -> Path:
    """The newest run's 'last' weights (else 'best'): the model a retrain would continue."""
    from yolo_studio.core.training import runs

    stem = runs.latest_checkpoint(project, "last")
    if stem is None:
        raise ConfigError(f"{runs.runs_dir(project)}: no trained model yet; train one first "
                          "or pass --weights")
    return stem


def _key(project, image: Path) -> str:
    try:
        return Path(os.path.relpath(Path(image).absolute(), project.root)).as_posix()
    except ValueError:
        return Path(image).absolute().as_posix()


def _stamp(image: Path) -> tuple[int, int]:
    try:
        return cache.image_stamp(image)
    except OSError:
        return (-1, -1)     # gone since the scan: never matches, and reading it names the file


def suggest(project, weights=None, n: int = 50, seed: int = 0, strategy: str = "combined",
            batch_size: int = DEFAULT_BATCH, input_size: int | None = None, progress=None,
            cancel: threading.Event | None = None, probe: ModelProbe | None = None) -> SuggestResult:
    """Score the unlabelled images (cached per checkpoint) and order them, the best ``n`` picked for diversity."""
    weights = Path(weights) if weights else default_weights(project)
    probe = probe or ModelProbe.load(weights, input_size)
    flip = bool(project.train_settings.get("hflip", True))     # as training mirrors (or not)
    key = cache.checkpoint_key(weights, {"size": probe.input_size, "second": second_scale(probe.input_size),
                                         "flip": flip})
    path = cache.cache_path(project.runs_dir, key)
    table, note = cache.load(path, key)
    result = SuggestResult([], weights, notes=[note] if note else [])
    images = project.image_paths()
    labelled = [p for p in images if is_labelled(project, p)]
    done = set(labelled)
    pool = [p for p in images if p not in done]
    if len(labelled) > MAX_CENTRES:
        pick = np.random.default_rng(seed).choice(len(labelled), MAX_CENTRES, replace=False)
        labelled = [labelled[i] for i in sorted(pick)]
    todo, keys = [], {}
    for p in pool + labelled:          # labelled ones too: their embeddings are the k-center's centres
        keys[p] = _key(project, p)
        if table.get(keys[p], _stamp(p)) is None:
            todo.append((keys[p], p))
    result.from_cache = len(pool) + len(labelled) - len(todo)
    job = score_images(probe, todo, table, batch_size, progress, cancel, flip)
    result.scored_now, result.cancelled, result.problems = job.scored, job.cancelled, job.problems
    if job.scored and note is None:
        try:
            cache.save(path, key, table)
        except OSError as e:     # a file where the folder goes, a read-only runs/: the scores stand
            result.notes.append(f"{path.parent}: scores not cached ({e})")
    rows = [(p, table.get(keys[p], _stamp(p))) for p in pool]
    rows = [(p, r) for p, r in rows if r is not None]
    if not rows:
        return result
    unc = np.array([r[0] for _, r in rows])
    cons = np.array([r[1] for _, r in rows])
    emb = np.stack([r[2] for _, r in rows])
    lab = [table.get(keys[p], _stamp(p)) for p in labelled]
    lab_emb = np.stack([r[2] for r in lab if r is not None]) if any(r is not None for r in lab) else None
    if strategy == "combined" and select.has_near_duplicates(emb, seed):
        result.notes.append(f"{select.near_duplicate_share(emb, seed):.0%} of the unlabelled images have a "
                            f"near-identical neighbour (video frames?): the suggestions are spread over "
                            f"scenes (k-center on the best {select.NEAR_DUPLICATE_POOL_FACTOR}x)")
    order = select.order_all(strategy, unc, cons, emb, n, lab_emb, seed)
    result.order = [Suggestion(rows[i][0], float(unc[i]), float(cons[i])) for i in order]
    return result
