"""Inference latency per 416x416 image, batch 1: ours (Keras/TF) beside OpenCV DNN.

For YOLOv3 and YOLOv3-tiny with 80 classes and random weights (class biases
tuned so about 40 (box, class) candidates pass the 0.25 score threshold):
- model only: the compiled network on a letterboxed float image;
- end to end: BGR 640x480 image -> letterbox -> network -> decode -> NMS ->
  boxes in image pixels (our Detector; OpenCV: blobFromImage, forward, numpy
  decode of its [yolo] outputs, NMSBoxesBatched);
- float32 vs Keras 'mixed_bfloat16' (model only and end to end; the
  Detector's precision='bfloat16'), and XLA (jit_compile) model time.
OpenCV reads the darknet cfg + weights our writer produced for the same model.
Runs are interleaved round by round so a busy machine slows both sides alike.
Prints median milliseconds and ratios; run ``python bench/bench_inference.py``.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from yolo_studio.core.detector import Detector  # noqa: E402
from yolo_studio.core.images import letterbox_image  # noqa: E402
from yolo_studio.core.model import ModelSpec, build_model, darknet_conv_layers, output_layers  # noqa: E402
from yolo_studio.core.model.darknet_cfg import write_cfg  # noqa: E402
from yolo_studio.core.model.darknet_weights import write_darknet_weights  # noqa: E402

SIZE, CLASSES, SCORE, IOU = 416, 80, 0.25, 0.45


def make_model(name: str, image: np.ndarray, seed: int = 0, candidates: int = 40):
    """80-class model with non-trivial BN stats; class biases tuned on ``image`` so that
    about ``candidates`` (box, class) pairs pass the score threshold, as a trained
    model might on a busy photo (random heads otherwise give none or thousands)."""
    keras.utils.set_random_seed(seed)
    model = build_model(name, CLASSES, SIZE)
    rng = np.random.default_rng(seed)
    for conv, bn in darknet_conv_layers(model):
        if bn is not None:
            n = bn.gamma.shape[0]
            bn.set_weights([rng.uniform(0.5, 1.5, n), rng.normal(0, .2, n), rng.normal(0, .2, n),
                            rng.uniform(0.5, 2, n)])
    for conv in output_layers(model):
        conv.bias.assign(np.zeros(conv.bias.shape, np.float32))
    boxed, _ = letterbox_image(image[:, :, ::-1].copy(), SIZE)
    raw = [r.numpy().reshape(r.shape[:3] + (3, 5 + CLASSES)) for r in model(boxed[None] / 255.0)]
    obj = np.concatenate([1 / (1 + np.exp(-r[..., 4:5].reshape(-1, 1))) for r in raw])
    logits = np.concatenate([r[..., 5:].reshape(-1, CLASSES) for r in raw])
    lo, hi = -20.0, 20.0
    for _ in range(50):                                   # bisect the shared class-logit shift
        mid = (lo + hi) / 2
        n = int((obj / (1 + np.exp(-(logits + mid))) > SCORE).sum())
        lo, hi = (mid, hi) if n < candidates else (lo, mid)
    for conv in output_layers(model):
        bias = conv.bias.numpy().reshape(3, 5 + CLASSES)
        bias[:, 5:] = hi
        conv.bias.assign(bias.reshape(-1))
    return model


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000.0


def opencv_pipeline(cfg: Path, weights: Path):
    """(model_only(blob), end_to_end(image)) closures around OpenCV DNN."""
    net = cv2.dnn.readNetFromDarknet(str(cfg), str(weights))
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    outs = net.getUnconnectedOutLayersNames()

    def model_only(blob):
        net.setInput(blob)
        return net.forward(outs)

    def end_to_end(image):
        h, w = image.shape[:2]
        blob = cv2.dnn.blobFromImage(image, 1 / 255.0, (SIZE, SIZE), swapRB=True, crop=False)
        rows = np.concatenate(model_only(blob))          # cx, cy, w, h (0..1), obj, class scores
        cls = rows[:, 5:].argmax(1)
        score = rows[np.arange(len(rows)), 5 + cls]      # OpenCV already multiplies by objectness
        keep = score > SCORE
        r, cls, score = rows[keep], cls[keep], score[keep]
        boxes = np.stack([(r[:, 0] - r[:, 2] / 2) * w, (r[:, 1] - r[:, 3] / 2) * h, r[:, 2] * w,
                          r[:, 3] * h], 1)
        idx = cv2.dnn.NMSBoxesBatched(boxes.tolist(), score.tolist(), cls.tolist(), SCORE, IOU)
        return len(idx)

    return model_only, end_to_end


def bench_model(name: str, rounds: int, tmp: Path) -> None:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (480, 640, 3), np.uint8)
    image = cv2.GaussianBlur(image, (0, 0), 3)           # smoother, more photo-like statistics
    model = make_model(name, image)
    spec = ModelSpec(name, CLASSES, SIZE)
    cfg = write_cfg(tmp / f"{name}.cfg", name, CLASSES, spec.anchors, SIZE)
    weights = write_darknet_weights(model, tmp / f"{name}.weights")
    x = tf.constant(rng.random((1, SIZE, SIZE, 3), np.float32))
    blob = np.ascontiguousarray(x.numpy().transpose(0, 3, 1, 2))

    graph = tf.function(lambda t: model(t, training=False), input_signature=[tf.TensorSpec(x.shape)])
    xla = tf.function(lambda t: model(t, training=False), input_signature=[tf.TensorSpec(x.shape)],
                      jit_compile=True)
    detector = Detector.from_model(model, spec)
    cv_model, cv_e2e = opencv_pipeline(cfg, weights)

    bf16_model = build_model(name, CLASSES, SIZE, dtype="mixed_bfloat16")
    bf16_model.set_weights(model.get_weights())
    bf16 = tf.function(lambda t: bf16_model(t, training=False), input_signature=[tf.TensorSpec(x.shape)])
    bf16_detector = Detector.from_model(bf16_model, spec)

    cases = {"ours model": lambda: graph(x)[0].numpy(),
             "ours model XLA": lambda: xla(x)[0].numpy(),
             "ours model bf16": lambda: bf16(x)[0].numpy(),
             "opencv model": lambda: cv_model(blob),
             "ours end-to-end": lambda: detector.detect(image, score_threshold=SCORE, iou_threshold=IOU),
             "ours end-to-end bf16": lambda: bf16_detector.detect(image, score_threshold=SCORE,
                                                                  iou_threshold=IOU),
             "opencv end-to-end": lambda: cv_e2e(image)}
    for fn in cases.values():                             # warm-up: tracing, XLA compile, allocations
        fn(), fn()
    times = {k: [] for k in cases}
    for _ in range(rounds):
        for k, fn in cases.items():
            times[k].append(timed(fn))
    med = {k: statistics.median(v) for k, v in times.items()}
    n_ours = len(detector.detect(image, score_threshold=SCORE, iou_threshold=IOU))
    print(f"\n{name}, 80 classes, {SIZE}x{SIZE}, batch 1, median of {rounds} interleaved rounds (ms):")
    for k, v in med.items():
        print(f"  {k:<22} {v:8.1f}")
    print(f"  detections after NMS: ours {n_ours}, opencv {cv_e2e(image)}")
    print(f"  OpenCV / ours, model only:      {med['opencv model'] / med['ours model']:.2f}x")
    print(f"  OpenCV / ours, end to end:      {med['opencv end-to-end'] / med['ours end-to-end']:.2f}x")
    print(f"  OpenCV / ours bf16, end to end: {med['opencv end-to-end'] / med['ours end-to-end bf16']:.2f}x")
    print(f"  float32 / mixed_bfloat16 model: {med['ours model'] / med['ours model bf16']:.2f}x")
    print(f"  graph / XLA model:              {med['ours model'] / med['ours model XLA']:.2f}x")
    print("  ours end-to-end split (last call): "
          + ", ".join(f"{k} {v * 1000:.1f}" for k, v in detector.timings.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--models", nargs="+", default=["yolov3-tiny", "yolov3"])
    args = parser.parse_args()
    print(f"TensorFlow {tf.__version__}, OpenCV {cv2.__version__}, {os.cpu_count()} CPUs, "
          f"cv2 threads {cv2.getNumThreads()}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            bench_model(name, args.rounds, Path(tmp))


if __name__ == "__main__":
    main()
