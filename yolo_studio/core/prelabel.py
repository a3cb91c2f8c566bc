"""Pre-labels: a model's detections merged into an annotation without touching a person's boxes.

Rules, because labels are the user's work:
- a box a person drew (``predicted=False``) is never changed or removed;
- earlier pre-labels of the image are replaced by the new ones (a newer model
  or other thresholds should not pile boxes up);
- a detection that repeats a person's box (same class, IoU >= ``duplicate_iou``)
  is not added, since that object is already labelled;
- an image that gets any pre-label is left unverified, so it is reviewed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from yolo_studio.core.defaults import DEFAULT_NMS_IOU, DEFAULT_SCORE_THRESHOLD
from yolo_studio.core.annotations import Box, Detection, ImageAnnotation
from yolo_studio.core.boxes import iou
from yolo_studio.core.errors import YoloStudioError
from yolo_studio.core.images import read_image
from yolo_studio.core.runtime import FOLDER_BATCH

DUPLICATE_IOU = 0.5


@dataclass
class MergeResult:
    """What merging did to one image's boxes."""

    annotation: ImageAnnotation
    added: int
    replaced: int          # earlier pre-labels removed
    kept_human: int
    duplicates: int        # detections skipped as repeats of a person's box


def merge_predictions(ann: ImageAnnotation, detections, duplicate_iou: float = DUPLICATE_IOU
                      ) -> MergeResult:
    """A copy of ``ann`` whose pre-labels are replaced by ``detections``; human boxes stay."""
    human = [b for b in ann.boxes if not b.predicted]
    old_predicted = len(ann.boxes) - len(human)
    new_boxes = [_as_predicted_box(d) for d in detections]
    kept, duplicates = [], 0
    if human and new_boxes:
        overlap = iou(np.array([b.xyxy() for b in new_boxes]), np.array([b.xyxy() for b in human]))
        for i, box in enumerate(new_boxes):
            same = [j for j, h in enumerate(human) if h.label == box.label]
            if same and overlap[i, same].max() >= duplicate_iou:
                duplicates += 1
            else:
                kept.append(box)
    else:
        kept = new_boxes
    out = ann.copy()
    out.boxes = human + kept
    if kept:
        out.verified = False
    return MergeResult(out, len(kept), old_predicted, len(human), duplicates)


def _as_predicted_box(d) -> Box:
    if isinstance(d, Box):
        return d.moved(predicted=True)
    return Box(float(d.x1), float(d.y1), float(d.x2), float(d.y2), d.label,
               predicted=True, score=float(d.score))


def detections_for_project(detections, project_classes) -> tuple[list[Detection], list[str]]:
    """Detections whose class the project knows, and the sorted labels left out.

    A project with no classes yet takes every class (it is being started from
    the model); otherwise a model trained on other classes (COCO, say) must
    not smuggle 80 new classes into a 2-class project.
    """
    if not project_classes:
        return list(detections), []
    known = set(project_classes)
    kept = [d for d in detections if d.label in known]
    skipped = sorted({d.label for d in detections if d.label not in known})
    return kept, skipped


@dataclass
class PrelabelOutcome:
    """One image's result: counts, or the problem that made us skip it."""

    image: Path
    added: int = 0
    replaced: int = 0
    kept_human: int = 0
    duplicates: int = 0
    unknown_classes: list[str] = field(default_factory=list)
    problem: str | None = None

    @property
    def changed(self) -> bool:
        return self.problem is None and (self.added > 0 or self.replaced > 0)


def prelabel_image(project, detector, image_path, score_threshold: float = DEFAULT_SCORE_THRESHOLD,
                   iou_threshold: float = DEFAULT_NMS_IOU) -> PrelabelOutcome:
    """Run ``detector`` on one project image and save its detections as pre-labels.

    A label file that cannot be read is left exactly as it is (its boxes may be
    someone's work) and reported in ``problem``; so is an unreadable image.
    """
    return next(prelabel_images(project, detector, [image_path], score_threshold, iou_threshold))


def prelabel_images(project, detector, image_paths, score_threshold: float = DEFAULT_SCORE_THRESHOLD,
                    iou_threshold: float = DEFAULT_NMS_IOU, batch: int = FOLDER_BATCH):
    """:func:`prelabel_image` for many images, ``batch`` per model call; yields one outcome per image."""
    paths = [Path(p) for p in image_paths]
    for start in range(0, len(paths), max(1, batch)):
        ready, outcomes = [], {}
        for path in paths[start:start + batch]:
            try:
                ready.append((path, project.load_annotation(path), read_image(path)))
            except YoloStudioError as e:
                outcomes[path] = PrelabelOutcome(path, problem=str(e))
        found = detector.detect_batch([image for _, _, image in ready], score_threshold=score_threshold,
                                      iou_threshold=iou_threshold)
        for (path, ann, image), dets in zip(ready, found):
            outcomes[path] = _save_prelabels(project, path, ann, image.shape, dets)
        for path in paths[start:start + batch]:
            yield outcomes[path]


def _save_prelabels(project, image_path: Path, ann, shape, dets) -> PrelabelOutcome:
    h, w = shape[:2]
    if not ann.width or not ann.height:
        ann.width, ann.height = w, h
    # A project without classes takes the model's (save_annotation adds them).
    dets, unknown = detections_for_project(dets, list(project.classes))
    merged = merge_predictions(ann, dets)
    outcome = PrelabelOutcome(image_path, merged.added, merged.replaced, merged.kept_human,
                              merged.duplicates, unknown)
    if outcome.changed:
        try:
            project.save_annotation(merged.annotation)
        except (OSError, YoloStudioError) as e:
            outcome.problem = f"{project.label_path(image_path)}: cannot be written ({e})"
    return outcome


def snapshot_boxes(detections, project_classes) -> tuple[list[Box], list[str]]:
    """Pre-label boxes for a preview snapshot, and the labels the project lacks."""
    dets, unknown = detections_for_project(detections, project_classes)
    return [_as_predicted_box(d) for d in dets], unknown
