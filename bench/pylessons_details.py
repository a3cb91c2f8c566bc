"""The pylessons train.py details our TrainConfig has no switch for, applied to our trainer (bench only).

bench_recipe.py's "tutorial recipe" row sets what TrainConfig can express
(batch 4, lr 1e-4, IoU > 0.3 assignment, smoothing 0.01, N(0, 0.01) kernels,
BN momentum 0.99). The real train.py (snapshot 9f29d73: train.py,
yolov3/dataset.py, yolov3/yolov4.py, whose Create_Yolo and compute_loss
train.py imports) differs in more; each detail below can be switched on alone
so one-difference runs can tell which of them matter:

- ``float32``: it trains in float32 (our ``auto`` is bfloat16 on an AVX-512-BF16 CPU);
- ``drop_empty``: its Dataset drops list lines without boxes (our training keeps
  them as negatives); validation keeps every image, so mAP stays comparable;
- ``aug``: its augmentation: flip, a crop that only cuts left/top (its
  ``max(w, ...)`` keeps the right/bottom edge), a translation over the full
  free range with black borders, each with p = 0.5, and no colour jitter
  (ours: a crop on all four sides, half the translation, grey borders, HSV jitter);
- ``bn_eps``: Keras' batch-norm epsilon 1e-3 (ours 1e-5);
- ``first_step``: its Adam() starts at Keras' default rate 1e-3, and train.py
  assigns the schedule's rate only after each step, so its very first step
  takes lr 1e-3 however small TRAIN_LR_INIT is;
- ``targets``: its preprocess_true_boxes: on each scale, the anchors whose IoU
  with the box exceeds 0.3, the anchor placed at the centre of the box's cell
  (so the box's offset in its cell lowers the IoU), and only when no anchor
  of any scale passes, the single best one (ours: (w, h) IoU, and the best
  anchor always).

Not reproduced: its ignore mask compares each scale's predictions with the
boxes assigned to that scale only (ours: every box of the image).

Everything is undone when the ``applied`` block ends.
"""
from __future__ import annotations

from contextlib import ExitStack, contextmanager

import numpy as np

DETAILS = ("float32", "drop_empty", "aug", "bn_eps", "first_step", "targets")
KERAS_BN_EPSILON = 1e-3
KERAS_ADAM_LR = 1e-3


def pylessons_augment(image, boxes, rng, hflip: bool = True):
    """dataset.py's random_horizontal_flip, random_crop and random_translate, as it runs them."""
    import cv2

    from yolo_studio.core.training.augment import mirror

    if rng.random() < 0.5 and hflip:
        image, boxes = mirror(image, boxes)
    if not len(boxes):
        return image, boxes
    h, w = image.shape[:2]
    if rng.random() < 0.5:
        x1, y1 = boxes[:, :2].min(axis=0)
        left = max(0, int(x1 - rng.uniform(0, x1)))
        top = max(0, int(y1 - rng.uniform(0, y1)))
        image = image[top:, left:]          # its crop_xmax = max(w, ...) = w: right/bottom stay
        boxes = boxes - [left, top, left, top]
        h, w = image.shape[:2]
    if rng.random() < 0.5:
        x1, y1 = boxes[:, :2].min(axis=0)
        x2, y2 = boxes[:, 2:].max(axis=0)
        # Python's random.uniform(a, b), which takes b < a (a box within 1 px of both edges)
        tx = -(x1 - 1) + ((w - x2 - 1) + (x1 - 1)) * rng.random()
        ty = -(y1 - 1) + ((h - y2 - 1) + (y1 - 1)) * rng.random()
        m = np.array([[1, 0, tx], [0, 1, ty]], dtype=np.float64)
        image = cv2.warpAffine(np.ascontiguousarray(image), m, (w, h))   # black border
        boxes = boxes + [tx, ty, tx, ty]
    return np.ascontiguousarray(image), boxes


def _iou_xywh(a, b):
    """IoU of (x, y, w, h) boxes, broadcast (its bbox_iou)."""
    lt = np.maximum(a[..., :2] - a[..., 2:] / 2, b[..., :2] - b[..., 2:] / 2)
    rb = np.minimum(a[..., :2] + a[..., 2:] / 2, b[..., :2] + b[..., 2:] / 2)
    inter = np.prod(np.maximum(rb - lt, 0), axis=-1)
    return inter / (np.prod(a[..., 2:], axis=-1) + np.prod(b[..., 2:], axis=-1) - inter)


def pylessons_targets(boxes, class_ids, input_size, anchors, strides, num_classes,
                      max_boxes=100, assignment="multi", assign_iou=0.3, label_smoothing=0.0):
    """encode_targets' grids and truth list, with dataset.py's anchor choice (see ``targets``)."""
    from yolo_studio.core.boxes import as_boxes
    from yolo_studio.core.training.targets import class_target, target_shapes

    boxes = as_boxes(boxes)
    class_ids = np.asarray(class_ids, dtype=np.int64).reshape(-1)
    na = len(anchors[0])
    grids = [np.zeros(s, np.float32) for s in target_shapes(input_size, strides, na, num_classes)]
    truth = np.zeros((max_boxes, 4), np.float32)
    truth[:min(len(boxes), max_boxes)] = boxes[:max_boxes]
    for box, cls in zip(boxes, class_ids):
        xywh = np.concatenate([(box[:2] + box[2:]) / 2, box[2:] - box[:2]])
        if xywh[2] <= 0 or xywh[3] <= 0:
            continue
        onehot = class_target(int(cls), num_classes, label_smoothing)
        ious, chosen = [], []
        for k, stride in enumerate(strides):
            scaled = xywh / stride
            cell = np.floor(scaled[:2])
            anchor_boxes = np.array([[*(cell + 0.5), w / stride, h / stride] for w, h in anchors[k]])
            iou = _iou_xywh(scaled[None], anchor_boxes)
            ious.append(iou)
            chosen += [(k, a) for a in np.flatnonzero(iou > assign_iou)]
        if not chosen:
            best = int(np.argmax(np.concatenate(ious)))
            chosen = [divmod(best, na)]
        for k, a in chosen:
            grid = grids[k]
            gx = min(int(xywh[0] // strides[k]), grid.shape[1] - 1)
            gy = min(int(xywh[1] // strides[k]), grid.shape[0] - 1)
            grid[gy, gx, a, 0:4] = xywh
            grid[gy, gx, a, 4] = 1.0
            grid[gy, gx, a, 5:] = onehot
    return grids, truth


@contextmanager
def _patched(module, name: str, value):
    old = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, old)


def config_overrides(details) -> dict:
    """The TrainConfig fields some details set (the rest are patches)."""
    return {"precision": "float32"} if "float32" in details else {}


@contextmanager
def applied(details):
    """Within the block our trainer runs with the named pylessons details."""
    from yolo_studio.core.training import pipeline, schedule, setup

    unknown = set(details) - set(DETAILS)
    if unknown:
        raise ValueError(f"unknown pylessons details {sorted(unknown)}; known: {DETAILS}")
    with ExitStack() as stack:
        if "aug" in details:
            stack.enter_context(_patched(pipeline, "augment", pylessons_augment))
        if "drop_empty" in details:
            stack.enter_context(_patched(setup, "DataSource", _drop_empty_source(pipeline.DataSource)))
        if "bn_eps" in details:
            stack.enter_context(_patched(setup, "_init_recipe", _with_bn_eps(setup._init_recipe)))
        if "targets" in details:
            stack.enter_context(_patched(pipeline, "encode_targets", pylessons_targets))
        if "first_step" in details:
            stack.enter_context(_patched(schedule, "WarmupCosine", _first_step_schedule(schedule.WarmupCosine)))
        yield


def _drop_empty_source(base):
    class TrainDropsEmpty(base):
        """The training split without images that have no boxes (validation unchanged)."""

        def __init__(self, samples, *args, augment=False, **kwargs):
            if augment:
                samples = [s for s in samples if len(s.classes)]
            super().__init__(samples, *args, augment=augment, **kwargs)
    return TrainDropsEmpty


def _with_bn_eps(init_recipe):
    def init(cfg, data, model):
        from yolo_studio.core.model.layers import set_bn_epsilon
        init_recipe(cfg, data, model)
        set_bn_epsilon(model, KERAS_BN_EPSILON)
    return init


def _first_step_schedule(base):
    import tensorflow as tf

    class FirstStepAtKerasRate(base):
        """The schedule, except that optimizer step 0 uses Adam's default 1e-3."""

        def __call__(self, step):
            return tf.where(tf.equal(step, 0), tf.constant(KERAS_ADAM_LR, tf.float32), super().__call__(step))
    return FirstStepAtKerasRate
