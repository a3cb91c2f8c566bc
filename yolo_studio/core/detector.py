"""Load any trained model and turn images into detections in the original image's pixels.

The network runs on a backend from core/runtime: TensorFlow first (one
compiled ``tf.function`` with a fixed input size and thresholds passed as
tensors, so changing images or sliders never retraces), then, after
:meth:`Detector.use_backend`, the fastest converted one that matches it.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import tensorflow as tf

from yolo_studio.core.defaults import DEFAULT_NMS_IOU, DEFAULT_SCORE_THRESHOLD
from yolo_studio.core.annotations import Detection
from yolo_studio.core.boxes import Letterbox, unletterbox_boxes
from yolo_studio.core.errors import ConfigError, YoloStudioError
from yolo_studio.core.images import letterbox_image
from yolo_studio.core.model import ModelSpec
from yolo_studio.core.model.darknet import resolve_class_names
from yolo_studio.core.model.loading import SAVEDMODEL_SPEC, load_keras_model, model_kind
from yolo_studio.core.model_family import check_input_size
from yolo_studio.core.runtime import TENSORFLOW, default_backend
from yolo_studio.core.runtime.tf_runtime import TFRuntime, decoded_function, make_detect_function
from yolo_studio.core.training.device import cpu_has_bfloat16

__all__ = ["Detector", "DetectorInputError", "PreparedImage", "make_detect_function", "to_detections", "as_rgb_uint8",
           "letterbox_rgb_uint8",
           "draw_detections", "resolve_precision", "fast_bfloat16"]


# precision name -> Keras dtype policy of the hidden layers (outputs stay float32)
PRECISIONS = {"float32": "float32", "bfloat16": "mixed_bfloat16", "auto": None}
CPUINFO = Path("/proc/cpuinfo")


def fast_bfloat16(cpuinfo: Path | None = None) -> bool:
    """True when the CPU has native bfloat16 maths (AVX-512-BF16 or AMX) and no GPU is used.

    Elsewhere bfloat16 is emulated and slower than float32.
    """
    if tf.config.list_physical_devices("GPU"):
        return False
    return cpu_has_bfloat16(cpuinfo or CPUINFO)


def resolve_precision(precision: str) -> str:
    """The Keras dtype policy for a precision name; 'auto' picks bfloat16 where it is fast."""
    if precision not in PRECISIONS:
        raise ConfigError(f"precision '{precision}' is unknown; choose one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        return PRECISIONS["bfloat16" if fast_bfloat16() else "float32"]
    return PRECISIONS[precision]


def _bf16_backend_offered(precision: str) -> bool:
    """True when a bf16 backend may replace TensorFlow for ``precision`` here (openvino, CPU bf16)."""
    from yolo_studio.core.runtime import BF16, offered_backends

    return any(n in BF16 for n in offered_backends(precision))


@dataclass(frozen=True)
class PreparedImage:
    """One image ready for the network: (1, S, S, 3) uint8 RGB batch and how it was letterboxed."""

    batch: np.ndarray
    letterbox: Letterbox
    width: int
    height: int


class DetectorInputError(YoloStudioError):
    """An image array the detector cannot use (wrong shape or type)."""


def to_detections(boxes, scores, classes, count: int, lb: Letterbox, width: int, height: int,
                  class_names: list[str]) -> list[Detection]:
    """NMS rows in network pixels -> Detections in the original image, clipped, empties dropped."""
    n = int(count)
    orig = unletterbox_boxes(np.asarray(boxes)[:n], lb, width, height)
    dets = []
    for (x1, y1, x2, y2), s, c in zip(orig, np.asarray(scores)[:n], np.asarray(classes)[:n]):
        if x2 - x1 < 1e-3 or y2 - y1 < 1e-3:       # wholly inside the padding
            continue
        c = int(c)
        dets.append(Detection(float(x1), float(y1), float(x2), float(y2), float(s), c,
                              class_names[c] if 0 <= c < len(class_names) else str(c)))
    return dets


def as_rgb_uint8(image, rgb: bool) -> np.ndarray:
    """Any HxW, HxWx1, HxWx3 or HxWx4 array -> contiguous RGB uint8; DetectorInputError otherwise."""
    if not isinstance(image, np.ndarray):
        raise DetectorInputError(f"image must be a numpy array, got {type(image).__name__}")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4) or min(image.shape[:2]) < 1:
        raise DetectorInputError(f"image must be HxW, HxWx3 or HxWx4, got shape {image.shape}")
    if image.dtype != np.uint8:
        scale = 255.0 if np.issubdtype(image.dtype, np.floating) and image.max(initial=0) <= 1.0 else 1.0
        image = np.clip(image.astype(np.float32) * scale, 0, 255).astype(np.uint8)
    if image.shape[2] == 1:
        return np.ascontiguousarray(np.repeat(image, 3, axis=2))
    image = image[:, :, :3]
    return np.ascontiguousarray(image if rgb else image[:, :, ::-1])


def letterbox_rgb_uint8(image, rgb: bool, size: int):
    """(letterboxed RGB uint8 image, Letterbox) for any image :func:`as_rgb_uint8` takes.

    A uint8 3-channel frame (the camera's and the preview's) is resized first and
    its channels swapped on the small result, with no full-size copy; other inputs
    go through :func:`as_rgb_uint8`. Both give the same pixels.
    """
    if (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3
            and image.shape[2] == 3 and min(image.shape[:2]) >= 1):
        return letterbox_image(np.ascontiguousarray(image), size, bgr_to_rgb=not rgb)
    return letterbox_image(as_rgb_uint8(image, rgb), size)


class Detector:
    """A loaded model with its classes, input size and anchors: image in, detections out.

    It runs on a backend (``runtime``, see core/runtime/): TensorFlow at first;
    :meth:`use_backend` swaps in a faster one, also while another thread is
    detecting (each call reads ``runtime`` once).
    """

    def __init__(self, run, spec: ModelSpec, input_size: int, source: str = "", message: str = "",
                 model=None, cfg=None):
        self.tf_runtime = run if run is None or isinstance(run, TFRuntime) else TFRuntime(run)
        self.runtime = self.tf_runtime
        self.backend_reason = "TensorFlow"
        self.spec = spec
        self.input_size = int(input_size)
        self.source = source
        self.message = message
        self.model = model          # the float32 Keras model other backends convert (else None)
        self.precision = "float32"  # the user's precision: 'auto'/'bfloat16' allow bf16 backends
        self.cfg = cfg
        self.trace_count = 0
        # Seconds spent in the last detect(): for the preview's latency read-out.
        self.timings = {"preprocess": 0.0, "infer": 0.0, "postprocess": 0.0}

    @property
    def class_names(self) -> list[str]:
        return self.spec.class_names

    @property
    def backend(self) -> str:
        """Name of the backend running the model now ('tensorflow', 'openvino', 'onnxruntime')."""
        return self.runtime.name

    def use_backend(self, backend: str = "auto", on_message=None) -> str:
        """Switch to ``backend`` ('auto': the fastest that matches TensorFlow); returns why.

        Converting takes seconds to a minute the first time (then it is cached
        beside the weights): call it off the GUI thread.
        """
        from yolo_studio.core.runtime.select import choose

        runtime, reason = choose(self, backend, on_message)
        self.runtime, self.backend_reason = runtime, reason
        return reason

    @classmethod
    def from_model(cls, model, spec: ModelSpec, input_size: int | None = None, source="", message=""):
        """Wrap an in-memory Keras model (e.g. the trainer's) in a compiled detector."""
        size = check_input_size(int(input_size or spec.input_size))
        # Only a float32 model is converted for the other backends (they run float32).
        float32 = all(getattr(layer, "compute_dtype", "float32") == "float32" for layer in model.layers)
        det = cls(None, spec, size, source, message, model=model if float32 else None)
        det.tf_runtime = det.runtime = TFRuntime(make_detect_function(model, spec, size, det._count_trace),
                                                 decoded_function(model, spec, size))
        return det

    def _count_trace(self) -> None:
        self.trace_count += 1

    @classmethod
    def load(cls, path, classes=None, cfg=None, input_size: int | None = None,
             precision: str = "float32", backend: str = TENSORFLOW, on_message=None,
             may_convert: bool = True) -> "Detector":
        """Load a checkpoint, darknet .weights (+ cfg) or a SavedModel exported by the app.

        ``precision`` 'bfloat16' runs the hidden layers in bfloat16 (1.4-2.3x
        faster on CPUs with AVX-512-BF16, scores within a few hundredths); 'auto'
        uses it only where the CPU does bfloat16 natively. SavedModels keep the
        precision they were exported with. ``backend`` other than 'tensorflow'
        converts (or takes from the cache) before returning: see :meth:`use_backend`.
        ``may_convert`` False (TensorFlow only) keeps TF's own bfloat16 for 'bfloat16'/'auto'.
        """
        may_convert = may_convert and (backend != TENSORFLOW or default_backend() != TENSORFLOW)
        det = cls._load(path, classes, cfg, input_size, precision, may_convert)
        det.precision = precision
        if backend != TENSORFLOW:
            det.use_backend(backend, on_message)
        return det

    @classmethod
    def _load(cls, path, classes, cfg, input_size, precision, may_convert=True) -> "Detector":
        policy = resolve_precision(precision)
        if policy != "float32" and may_convert and _bf16_backend_offered(precision):
            # OpenVINO bf16 (3x TF bf16 here) converts a float32 model; TF runs it in float32
            # until the switch, and it is the reference bf16 is checked against.
            policy = "float32"
        if model_kind(path) == "savedmodel":
            det = cls._load_savedmodel(Path(path), classes)
            if input_size and int(input_size) != det.input_size:
                raise ConfigError(f"{path}: this SavedModel has a fixed input size of "
                                  f"{det.input_size}, not {input_size}; export again with --size")
            return det
        size = check_input_size(int(input_size)) if input_size else None
        model, spec, message = load_keras_model(path, classes, cfg, size, None, policy)
        det = cls.from_model(model, spec, spec.input_size, str(path), message)
        det.cfg = cfg
        return det

    @classmethod
    def _load_savedmodel(cls, path: Path, classes) -> "Detector":
        spec_file = path / SAVEDMODEL_SPEC
        try:
            spec = ModelSpec.from_dict(json.loads(spec_file.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ConfigError(f"{spec_file}: SavedModel description missing or unreadable ({e}); "
                              f"export the model again with 'yolo-studio export'") from e
        if classes is not None:
            spec.class_names = resolve_class_names(classes, spec.num_classes, path.name, spec.class_names)
        loaded = tf.saved_model.load(str(path))
        fn = loaded.signatures["detect"]

        def run(images, score, iou, max_det):
            out = fn(images=tf.cast(images, tf.float32) / 255.0, score_threshold=score,
                     iou_threshold=iou, max_detections=max_det)
            return out["boxes"], out["scores"], out["classes"], out["valid"]

        det = cls(run, spec, spec.input_size, str(path), f"{path.name}: SavedModel")
        det._keep = loaded          # the concrete function needs its module alive
        return det

    def warmup(self) -> "Detector":
        """Trace and run once on a blank frame, so the first real frame is not the slow one."""
        self.detect(np.full((self.input_size, self.input_size, 3), 128, np.uint8))
        return self

    def detect(self, image, rgb: bool = False, score_threshold: float = DEFAULT_SCORE_THRESHOLD,
               iou_threshold: float = DEFAULT_NMS_IOU, max_detections: int = 100) -> list[Detection]:
        """Detections for one BGR (default) or RGB image of any size, in its pixels."""
        t0 = time.perf_counter()
        prepared = self.prepare(image, rgb)
        return self.detect_prepared(prepared, score_threshold, iou_threshold, max_detections,
                                    prepare_s=time.perf_counter() - t0)

    def prepare(self, image, rgb: bool = False) -> PreparedImage:
        """The letterboxed network input for one image (a thread may do it while the model runs)."""
        boxed, lb = letterbox_rgb_uint8(image, rgb, self.input_size)
        h, w = np.shape(image)[:2]
        return PreparedImage(boxed[None], lb, w, h)

    def detect_prepared(self, prepared: PreparedImage, score_threshold: float = DEFAULT_SCORE_THRESHOLD,
                        iou_threshold: float = DEFAULT_NMS_IOU, max_detections: int = 100,
                        prepare_s: float = 0.0) -> list[Detection]:
        """Detections for an image :meth:`prepare` made, in the original image's pixels."""
        t1 = time.perf_counter()
        boxes, scores, classes, valid = self.runtime.detect(prepared.batch, score_threshold,
                                                            iou_threshold, max_detections)
        t2 = time.perf_counter()
        dets = to_detections(boxes[0], scores[0], classes[0], valid[0], prepared.letterbox,
                             prepared.width, prepared.height, self.class_names)
        self.timings = {"preprocess": prepare_s, "infer": t2 - t1, "postprocess": time.perf_counter() - t2}
        return dets

    def detect_batch(self, images, rgb: bool = False, score_threshold: float = DEFAULT_SCORE_THRESHOLD,
                     iou_threshold: float = DEFAULT_NMS_IOU,
                     max_detections: int = 100) -> list[list[Detection]]:
        """Detections for several images of any sizes in one model call (folders: detect, eval)."""
        if not len(images):
            return []
        prepared = [letterbox_rgb_uint8(im, rgb, self.input_size) for im in images]
        letterboxes = [lb for _, lb in prepared]
        batch = np.stack([boxed for boxed, _ in prepared])
        boxes, scores, classes, valid = self.runtime.detect(batch, score_threshold, iou_threshold,
                                                            max_detections)
        shapes = [np.shape(im)[:2] for im in images]
        return [to_detections(boxes[i], scores[i], classes[i], valid[i], lb, w, h, self.class_names)
                for i, (lb, (h, w)) in enumerate(zip(letterboxes, shapes))]


def draw_detections(image_bgr: np.ndarray, detections: list[Detection]) -> np.ndarray:
    """A copy of ``image_bgr`` with boxes and 'label score' tags drawn (for the CLI)."""
    out = image_bgr.copy()
    thick = max(1, round(min(out.shape[:2]) / 300))
    for d in detections:
        hue = (d.class_id * 47) % 180
        color = tuple(int(c) for c in cv2.cvtColor(np.uint8([[[hue, 220, 255]]]), cv2.COLOR_HSV2BGR)[0, 0])
        p1, p2 = (int(d.x1), int(d.y1)), (int(d.x2), int(d.y2))
        cv2.rectangle(out, p1, p2, color, thick)
        text = f"{d.label} {d.score:.2f}"
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.4 * thick, 1)
        y = max(p1[1], th + base)
        cv2.rectangle(out, (p1[0], y - th - base), (p1[0] + tw, y), color, -1)
        cv2.putText(out, text, (p1[0], y - base), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * thick, (0, 0, 0), 1,
                    cv2.LINE_AA)
    return out
