"""The tf.data input pipeline: project images + boxes -> letterboxed batches with targets.

Decoding and augmentation run in numpy/cv2 inside ``tf.numpy_function`` with
a parallel map (cv2 releases the GIL, and it decodes JPEGs faster than
tf.io here, which also cannot read every format the labeller can); the
element order and every random choice derive from (seed, epoch, position), so
an epoch replays identically after a resume, whatever order the threads
finish in.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from yolo_studio.core.boxes import clip, letterbox_boxes
from yolo_studio.core.errors import ImageFileError, LabelFileError, Problem
from yolo_studio.core.images import image_size, letterbox_image, read_image
from yolo_studio.core.model_family import AnchorSet

from .augment import augment
from .targets import MAX_BOXES, encode_targets

MULTISCALE_STEPS = (-64, -32, 0, 32, 64)
_MIN_BOX = 2.0   # px in the network input: smaller boxes are too small to learn


@dataclass(frozen=True)
class Sample:
    """One labelled image: path and its boxes (original pixels) with class indices."""

    path: str
    boxes: np.ndarray     # (N, 4) float32 xyxy
    classes: np.ndarray   # (N,) int32
    difficult: np.ndarray = None   # (N,) bool; trained on, ignored by mAP

    def __post_init__(self):
        if self.difficult is None:
            object.__setattr__(self, "difficult", np.zeros(len(self.classes), dtype=bool))


def load_samples(project, images, class_names,
                 awaiting: list | None = None) -> tuple[list[Sample], list[Problem]]:
    """Labelled images among ``images`` as samples; anything unusable becomes a Problem.

    Images whose pre-labels wait for a person (``ImageAnnotation.awaiting_review``) are
    left out and, when ``awaiting`` is a list, appended to it.
    """
    index = {n: i for i, n in enumerate(class_names)}
    samples, problems = [], []
    for path in images:
        if not project.has_labels(path):
            continue   # not labelled yet: neither a positive nor a negative
        try:
            ann = project.load_annotation(path)
            image_size(path)
        except (LabelFileError, ImageFileError) as e:
            problems.append(Problem(str(getattr(e, "path", path)), e.what))
            continue
        if ann.awaiting_review:
            if awaiting is not None:
                awaiting.append(path)
            continue
        unknown = sorted({b.label for b in ann.boxes if b.label not in index})
        if unknown:
            problems.append(Problem(str(path), f"boxes of unknown class {', '.join(unknown)} "
                                               "(add the class to the project or relabel); image skipped"))
            continue
        boxes = ann.boxes_array().astype(np.float32)
        classes = np.array([index[b.label] for b in ann.boxes], dtype=np.int32)
        difficult = np.array([b.difficult for b in ann.boxes], dtype=bool)
        samples.append(Sample(str(path), boxes.reshape(-1, 4), classes, difficult))
    return samples, problems


class DataSource:
    """Builds the per-epoch tf.data pipelines of one split."""

    def __init__(self, samples: list[Sample], num_classes: int, input_size: int,
                 anchors, strides, augment: bool = False, multiscale: bool = False,
                 seed: int = 0, hflip: bool = True, target_options: dict | None = None):
        self.samples = samples
        self.num_classes = num_classes
        self.input_size = input_size
        self.anchors = AnchorSet.parse(anchors)
        self.strides = list(strides)
        self.augment = augment
        self.multiscale = multiscale
        self.seed = seed
        self.hflip = hflip
        # encode_targets' recipe keywords (assignment, assign_iou, label_smoothing)
        self.target_options = dict(target_options or {})
        self._lock = threading.Lock()
        self._bad: dict[str, str] = {}
        # Set when no image of the split can be read any more; the trainer turns
        # it into a message instead of TensorFlow's traceback of the raise below.
        self.failure: ImageFileError | None = None

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def bad_images(self) -> dict[str, str]:
        """Images that failed to decode so far (path -> reason); they are skipped."""
        with self._lock:
            return dict(self._bad)

    def order(self, epoch: int, shuffle: bool) -> np.ndarray:
        """Sample indices of one epoch."""
        n = len(self.samples)
        if not shuffle:
            return np.arange(n)
        return np.random.default_rng([self.seed, epoch]).permutation(n)

    def size_of_batch(self, epoch: int, batch: int) -> int:
        """Input size of a batch: fixed, or one of a few around it with multi-scale."""
        if not self.multiscale:
            return self.input_size
        step = np.random.default_rng([self.seed, epoch, batch, 7]).choice(MULTISCALE_STEPS)
        return max(self.input_size + int(step), 64)

    def load(self, index: int, size: int, rng: np.random.Generator | None):
        """One image ready for the network: (image, grids..., truth, meta)."""
        sample = self.samples[index]
        image = read_image(sample.path)[:, :, ::-1]   # BGR -> RGB
        h, w = image.shape[:2]
        boxes = clip(sample.boxes, w, h).astype(np.float64)
        if rng is not None:
            image, boxes = augment(image, boxes, rng, hflip=self.hflip)
        lb_image, lb = letterbox_image(np.ascontiguousarray(image), size)
        net_boxes = letterbox_boxes(boxes, lb)
        keep = ((net_boxes[:, 2] - net_boxes[:, 0]) >= _MIN_BOX) & \
               ((net_boxes[:, 3] - net_boxes[:, 1]) >= _MIN_BOX)
        grids, truth = encode_targets(net_boxes[keep], sample.classes[keep], size,
                                      self.anchors, self.strides, self.num_classes, MAX_BOXES,
                                      **self.target_options)
        meta = np.array([lb.scale, lb.dx, lb.dy, w, h, index], dtype=np.float32)
        return (lb_image.astype(np.float32) / 255.0, *grids, truth, meta)

    def _load_safe(self, index, size, rng):
        """Load ``index``; if its image cannot be decoded, note it and load the next one."""
        n = len(self.samples)
        for k in range(n):
            i = (index + k) % n
            path = self.samples[i].path
            with self._lock:
                if path in self._bad:
                    continue
            try:
                return self.load(i, size, rng)
            except ImageFileError as e:
                with self._lock:
                    self._bad[path] = e.what
        path = self.samples[index].path
        with self._lock:
            why = self._bad.get(path, "cannot be decoded")
        failure = ImageFileError(Path(path), f"{why}, and no image of this split can be decoded")
        self.failure = failure
        raise failure

    def dataset(self, epoch: int, batch_size: int, train: bool, start_batch: int = 0) -> tf.data.Dataset:
        """Batches of one epoch (from ``start_batch`` on): (image, targets, truth, meta).

        Training drops the last partial batch; evaluation pads it with repeats whose
        meta index is -1 (to be ignored), so every batch has one shape and the
        compiled step is traced once.
        """
        order = self.order(epoch, shuffle=train)
        n_batches = len(order) // batch_size if train else -(-len(order) // batch_size)
        fixed = not self.multiscale

        def load_one(j):
            j = int(j)
            size = self.size_of_batch(epoch, j // batch_size)
            rng = np.random.default_rng([self.seed, epoch, j]) if (train and self.augment) else None
            out = self._load_safe(int(order[j % len(order)]), size, rng)
            if j >= len(order):
                out[-1][5] = -1      # padding
            return out

        n_out = len(self.strides) + 3
        dtypes = [tf.float32] * n_out

        def tf_load(j):
            out = tf.numpy_function(load_one, [j], dtypes, stateful=False)
            s = self.input_size if fixed else None
            out[0].set_shape((s, s, 3))
            na = len(self.anchors[0])
            for k, stride in enumerate(self.strides):
                g = s // stride if s else None
                out[1 + k].set_shape((g, g, na, 5 + self.num_classes))
            out[-2].set_shape((MAX_BOXES, 4))
            out[-1].set_shape((6,))
            return out[0], tuple(out[1:-2]), out[-2], out[-1]

        ds = tf.data.Dataset.range(start_batch * batch_size, n_batches * batch_size)
        ds = ds.map(tf_load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        ds = ds.batch(batch_size, drop_remainder=True)
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        return ds.with_options(options).prefetch(tf.data.AUTOTUNE)

    def steps_per_epoch(self, batch_size: int, train: bool = True) -> int:
        """Batches in one epoch (the last partial batch is dropped when training)."""
        n = len(self.samples)
        return n // batch_size if train else -(-n // batch_size)
