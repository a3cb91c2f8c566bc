"""The Anchors panel's background job: load the boxes, fit, measure; runs on a worker thread."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal

from yolo_studio.core import anchors as A
from yolo_studio.core.annotations import ImageAnnotation
from yolo_studio.core.errors import ConfigError, Problem
from yolo_studio.gui.workers import Worker


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


@dataclass
class AnchorsResult:
    """Everything the panel shows: box sizes, where each came from, anchor sets and their fit."""

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
        return len({path for path, _ in self.refs})


def compute(project, request: FitRequest, labels: LoadedLabels | None,
            stop: threading.Event | None = None, progress=None) -> AnchorsResult:
    """Load (unless ``labels`` is given), scale, fit and measure; plain Python, any thread."""
    if labels is None:
        labels = LoadedLabels(*project.load_all())
    sizes = A.collect_box_sizes(labels.annotations, request.input_size)
    by_path = {a.image_path: a for a in labels.annotations}
    classes = [by_path[p].boxes[i].label for p, i in sizes.refs]
    result = AnchorsResult(request, labels, sizes.wh, sizes.refs, classes, sizes.skipped)
    if len(sizes.wh) == 0:
        if request.fit and sizes.skipped:
            raise ConfigError(f"{project.root}: no usable boxes; {len(sizes.skipped)} were skipped, "
                              f"e.g. {sizes.skipped[0]}")
        if request.fit:
            raise ConfigError(f"{project.root}: no labelled boxes to fit anchors to; "
                              f"label some images first")
        return result
    if request.fit:
        fitted = A.fit_anchors(sizes.wh, request.k, seed=request.seed, genetic=request.genetic,
                               stop=stop, progress=progress)
        result.sets[A.FITTED] = A.round_anchors(fitted)
    for name, groups in A.reference_anchors(project, request.model, request.input_size).items():
        result.sets[name] = A.flatten_anchors(groups)
    result.metrics = {n: A.fit_metrics(sizes.wh, a) for n, a in result.sets.items()}
    result.clusters = A.assign_clusters(sizes.wh, result.sets[result.main_set])
    return result


class AnchorsJob(Worker):
    """Runs :func:`compute` off the GUI thread; a set ``stop`` event cancels it.

    Every signal carries the job's ``generation`` so the panel can drop the
    results of a job started for a project that is no longer open.
    """

    progressed = Signal(float, int)
    done = Signal(object, int)          # AnchorsResult, generation
    error = Signal(str, int)
    cancelled = Signal(int)

    def __init__(self, project, request: FitRequest, labels: LoadedLabels | None, generation: int = 0):
        super().__init__()
        self.project = project
        self.request = request
        self.labels = labels
        self.generation = generation
        self.stop = threading.Event()

    def work(self) -> None:
        gen = self.generation
        try:
            result = compute(self.project, self.request, self.labels, self.stop,
                             lambda f: self.progressed.emit(f, gen))
        except A.FitCancelled:
            self.cancelled.emit(gen)
            return
        except Exception as e:  # any failure is shown in the panel; the GUI must survive it
            self.error.emit(str(e) or type(e).__name__, gen)
            return
        self.done.emit(result, gen)
