"""The anchors use case for a project: read its boxes, fit anchors, measure every set.

Both front ends call it: ``yolo-studio anchors`` (commands/anchors.py) prints
the result, the Anchors panel (gui/anchors/job.py) runs it on a worker thread
and draws it. Numpy only, any thread.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import anchors as A
from .annotations import ImageAnnotation
from .datasets.box_table import BoxTable
from .errors import ConfigError, Problem
from .training_data import TrainingData


@dataclass(frozen=True)
class FitRequest:
    """What to compute: ``fit=False`` only loads the boxes and measures the existing anchors."""

    model: str
    input_size: int
    k: int
    seed: int = 0
    genetic: bool = True
    fit: bool = True


@dataclass
class LoadedLabels:
    """The project's annotations as last read from disk, and the problems found reading them."""

    annotations: list[ImageAnnotation]
    problems: list[Problem]
    table: BoxTable | None = None        # the boxes as columns instead (then annotations is [])

    def images_with_boxes(self) -> int:
        """How many images have at least one box."""
        if self.table is not None:
            return self.table.images_with_boxes()
        return sum(1 for a in self.annotations if a.boxes)


@dataclass
class AnchorsResult:
    """Box sizes, where each came from, anchor sets and how well each fits."""

    request: FitRequest
    labels: LoadedLabels
    wh: np.ndarray                                   # (N, 2) network pixels
    refs: list[tuple[Path, int]]                     # per box: image, box index
    classes: list[str]                               # per box: class name
    skipped: list[Problem]
    sets: dict[str, np.ndarray] = field(default_factory=dict)      # name -> (k, 2)
    metrics: dict[str, A.FitMetrics] = field(default_factory=dict)
    clusters: np.ndarray | None = None               # per box: index into the main set

    @property
    def main_set(self) -> str:
        """The set the points are coloured by: the fitted one if there is one."""
        return A.FITTED if A.FITTED in self.sets else next(iter(self.sets))

    @property
    def images_with_boxes(self) -> int:
        """Images with at least one usable box."""
        return len({path for path, _ in self.refs})


def load_boxes(project: TrainingData, request: FitRequest,
               labels: LoadedLabels | None = None) -> AnchorsResult:
    """The project's box sizes at the request's input size (read from disk unless ``labels``)."""
    if labels is None:
        # A dataset that keeps its boxes as columns (COCO) gives them without a Box per box.
        table = project.box_table()
        labels = LoadedLabels([], table.problems, table) if table is not None else \
            LoadedLabels(*project.load_all())
    if labels.table is not None:
        sizes, kept = A.table_box_sizes(labels.table, request.input_size)
        names = labels.table.classes
        classes = [names[c] for c in labels.table.cls[kept].tolist()]
    else:
        sizes = A.collect_box_sizes(labels.annotations, request.input_size)
        by_path = {a.image_path: a for a in labels.annotations}
        classes = [by_path[p].boxes[i].label for p, i in sizes.refs]
    return AnchorsResult(request, labels, sizes.wh, sizes.refs, classes, sizes.skipped)


def fit_and_measure(project: TrainingData, result: AnchorsResult, stop: threading.Event | None = None,
                    progress=None) -> AnchorsResult:
    """Fit (if asked) and measure the fitted, the project's and COCO's anchors on ``result``'s boxes.

    ConfigError when a fit is asked for and there is no usable box; FitCancelled on ``stop``.
    """
    request = result.request
    if len(result.wh) == 0:
        if request.fit:
            raise no_boxes_error(project, result.skipped)
        return result
    if request.fit:
        fitted = A.fit_anchors(result.wh, request.k, seed=request.seed, genetic=request.genetic,
                               stop=stop, progress=progress)
        result.sets[A.FITTED] = A.round_anchors(fitted)
    for name, groups in A.reference_anchors(project, request.model, request.input_size).items():
        result.sets[name] = A.flatten_anchors(groups)
    result.metrics = {n: A.fit_metrics(result.wh, a) for n, a in result.sets.items()}
    result.clusters = A.assign_clusters(result.wh, result.sets[result.main_set])
    return result


def fit_project_anchors(project: TrainingData, request: FitRequest, labels: LoadedLabels | None = None,
                        stop: threading.Event | None = None, progress=None) -> AnchorsResult:
    """:func:`load_boxes` then :func:`fit_and_measure`."""
    return fit_and_measure(project, load_boxes(project, request, labels), stop, progress)


def no_boxes_error(project: TrainingData, skipped: list[Problem]) -> ConfigError:
    """Why there is nothing to fit: boxes skipped (naming the first), or none labelled (and why)."""
    if skipped:
        return ConfigError(f"{project.root}: no usable boxes; {len(skipped)} were skipped, "
                           f"e.g. {skipped[0]}")
    missing = [d for d in project.image_dirs if not d.is_dir()]
    hint = (f" (image folder{'s' if len(missing) > 1 else ''} {', '.join(map(str, missing))} "
            f"named in {project.project_file} do{'' if len(missing) > 1 else 'es'} not exist)"
            if missing else "; label some images first")
    return ConfigError(f"{project.root}: no labelled boxes to fit anchors to{hint}")
