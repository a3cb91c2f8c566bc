"""Evaluate a model on a project's split: the one use case behind ``yolo-studio eval`` and
the Train panel's "Compute PR curves" (they used to differ in threshold and classes)."""
from __future__ import annotations

from dataclasses import dataclass, field

from yolo_studio.core.annotations import Detection, ImageAnnotation, awaiting_review_note
from yolo_studio.core.defaults import DEFAULT_NMS_IOU, EVAL_SCORE_THRESHOLD
from yolo_studio.core.errors import ConfigError, ImageFileError, LabelFileError
from yolo_studio.core.evaluation import EvalResult, evaluate
from yolo_studio.core.runtime import BF16, FOLDER_BATCH, default_backend


@dataclass
class CheckpointEval:
    """The metrics, the images scored with their detections, and what was skipped and why."""

    result: EvalResult
    annotations: list[ImageAnnotation]
    detections: list[list[Detection]]
    problems: list[str] = field(default_factory=list)


def ground_truth(project, split: str = "val") -> tuple[list[ImageAnnotation], list[str]]:
    """The labelled annotations of ``split`` ('val', 'train' or 'all'); unreadable files reported."""
    train, val = project.split()
    images = {"val": val, "train": train, "all": train + val}[split]
    anns, problems, awaiting = [], [], []
    for path in images:
        if not project.has_labels(path):
            continue
        try:
            ann = project.load_annotation(path)
        except LabelFileError as e:
            problems.append(str(e))
            continue
        if ann.awaiting_review:      # graded against the model's own guesses, a model would look right
            awaiting.append(path)
        else:
            anns.append(ann)
    if awaiting:
        problems.append(awaiting_review_note(awaiting, "evaluate on"))
    left_out = f" ({len(awaiting)} with pre-labels nobody has accepted yet were left out)" if awaiting else ""
    if not anns:
        raise ConfigError(f"{project.root}: no labelled images in the {split} split to evaluate on; "
                          f"label more images, or raise the project's validation fraction{left_out}")
    if awaiting and not any(a.boxes for a in anns):
        # Only negatives left: every detection would be a false positive and mAP 0 over no
        # boxes, a score that says nothing about the model.
        raise ConfigError(f"{project.root}: no labelled boxes in the {split} split to evaluate on, only "
                          f"images marked empty{left_out}; accept or correct the pre-labels in the "
                          "Label tab, then evaluate")
    return anns, problems


def evaluate_checkpoint(project, weights, split: str = "val",
                        score_threshold: float = EVAL_SCORE_THRESHOLD,
                        iou_threshold: float = DEFAULT_NMS_IOU, cfg=None, input_size=None,
                        stop=None, backend: str | None = None, on_message=None) -> CheckpointEval:
    """Detect on every labelled image of ``split`` and score it against the project's classes.

    Images that cannot be read are skipped and reported; detections of classes
    the project does not have are left out (they cannot be right or wrong).
    ``stop`` (a threading.Event) ends early with what was scored so far.
    Images go to the model in batches, on ``backend`` (see core/runtime; None: the default).
    """
    from yolo_studio.core.detector import Detector
    from yolo_studio.core.runtime.select import faster_backend

    anns, problems = ground_truth(project, split)
    # float32 unless the bf16 backend is named: naming it is choosing bfloat16 ('auto' stays float32)
    precision = "bfloat16" if backend in BF16 else "float32"
    detector = Detector.load(weights, cfg=cfg, input_size=input_size, precision=precision)
    classes = list(project.classes)
    shared = set(classes) & set(detector.class_names)
    if not shared:
        raise ConfigError(f"{weights}: the model's classes ({', '.join(detector.class_names)}) "
                          f"share none with the project's ({', '.join(classes)})")
    kept, detections = [], []
    with faster_backend(detector, backend or default_backend(), on_message):
        for start in range(0, len(anns), FOLDER_BATCH):
            if stop is not None and stop.is_set():
                break
            batch = _read_images(anns[start:start + FOLDER_BATCH], problems)
            found = detector.detect_batch([image for _, image in batch], score_threshold=score_threshold,
                                          iou_threshold=iou_threshold)
            for (ann, _), dets in zip(batch, found):
                kept.append(ann)
                detections.append([d for d in dets if d.label in shared])
    return CheckpointEval(evaluate(kept, detections, classes), kept, detections, problems)


def _read_images(anns, problems: list[str]) -> list:
    """(annotation, BGR image) for each readable image; the others noted in ``problems``."""
    from yolo_studio.core.images import read_image

    out = []
    for ann in anns:
        try:
            out.append((ann, read_image(ann.image_path)))
        except ImageFileError as e:
            problems.append(str(e))
    return out
