"""Inference latency per 416x416 image, batch 1: every backend of ours beside OpenCV DNN.

For YOLOv3 and YOLOv3-tiny with 80 classes and random weights (class biases
tuned so about 40 (box, class) candidates pass the 0.25 score threshold),
written as darknet cfg + weights and read by both OpenCV and our darknet reader:
- end to end: BGR 640x480 image -> letterbox -> network -> decode -> NMS ->
  boxes in image pixels (our Detector on each backend; OpenCV: blobFromImage,
  forward, numpy decode of its [yolo] outputs, NMSBoxesBatched);
- model only: the network + decode on a ready input (OpenCV: forward).
Backends: TensorFlow float32 (today), OpenVINO and ONNX Runtime (float32,
converted from our TF graph with the decode inside), what ``auto`` picks, and
where the CPU has bf16/AMX, openvino-bf16 (the same IR, bf16 hint; 'auto' here runs
with precision auto, so it may pick it) and TF mixed_bfloat16.
All runs are interleaved round by round in one process, so a busy machine
slows every side alike; prints medians (ms), ratios to OpenCV, conversion
times and whether every backend's boxes equal TensorFlow's.
Run ``python bench/bench_inference.py --repeat 3 --settle 0.05`` under the shared speed lock
(``--models``, ``--backends`` to narrow it).
"""
from __future__ import annotations

import argparse
import copy
import gc
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

from yolo_studio.core.detector import Detector, fast_bfloat16  # noqa: E402
from yolo_studio.core.images import letterbox_image  # noqa: E402
from yolo_studio.core.model import ModelSpec, build_model, darknet_conv_layers, output_layers  # noqa: E402
from yolo_studio.core.model.darknet_cfg import write_cfg  # noqa: E402
from yolo_studio.core.model.darknet_weights import write_darknet_weights  # noqa: E402
from yolo_studio.core.runtime import BF16, OPTIONAL, available_backends, is_bf16  # noqa: E402
from yolo_studio.core.runtime.select import BackendError, make_runtime  # noqa: E402

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


def same_boxes(a, b, score_tol: float = 1e-3) -> bool:
    """Same count, and pairwise (sorted by score) same class, IoU > 0.99, score within ``score_tol``."""
    from yolo_studio.core.boxes import iou

    if len(a) != len(b):
        return False
    a, b = sorted(a, key=lambda d: -d.score), sorted(b, key=lambda d: -d.score)
    for x, y in zip(a, b):
        if x.class_id != y.class_id or abs(x.score - y.score) > score_tol:
            return False
        if iou([x.x1, x.y1, x.x2, x.y2], [y.x1, y.y1, y.x2, y.y2])[0, 0] <= 0.99:
            return False
    return True


def backends_for(weights: Path, cfg: Path, names: list[str]) -> tuple[dict, dict]:
    """Detectors on every backend for the same darknet files, and seconds each conversion took.

    One Keras model shared by all (shallow copies with their own runtime): the
    full YOLOv3 loaded once per backend ran out of memory on the shared machine.
    """
    tf_det = Detector.load(weights, cfg=cfg)
    detectors, seconds = {"tensorflow": tf_det}, {}
    for name in names:
        print(f"  converting for {name}...", flush=True)
        det = copy.copy(tf_det)
        det.precision = "bfloat16" if is_bf16(name) else "float32"     # bf16 only when asked for
        t0 = time.perf_counter()
        try:
            det.use_backend(name)
        except BackendError as e:
            if not is_bf16(name):
                raise
            # bf16 on these random weights may miss TF float32's boxes; still timed, marked unchecked
            print(f"  {e}; timed anyway (unchecked)", flush=True)
            det.runtime = make_runtime(det, name)
        seconds[name] = time.perf_counter() - t0
        detectors[name] = det
        gc.collect()                 # the converter's copies of the graph
    return detectors, seconds


def tol(backend: str) -> float:
    """The score tolerance a backend is held to against TensorFlow float32."""
    from yolo_studio.core.runtime.select import BF16_SCORE_TOL, SCORE_TOL

    return BF16_SCORE_TOL if is_bf16(backend) else SCORE_TOL


def bench_model(name: str, rounds: int, tmp: Path, backends: list[str], repeat: int = 1,
                settle: float = 0.0, with_auto: bool = True) -> None:
    rng = np.random.default_rng(1)
    image = cv2.GaussianBlur(rng.integers(0, 256, (480, 640, 3), np.uint8), (0, 0), 3)
    model = make_model(name, image)
    spec = ModelSpec(name, CLASSES, SIZE)
    cfg = write_cfg(tmp / f"{name}.cfg", name, CLASSES, spec.anchors, SIZE)
    weights = write_darknet_weights(model, tmp / f"{name}.weights")
    del model
    keras.backend.clear_session()
    gc.collect()
    cv_model, cv_e2e = opencv_pipeline(cfg, weights)
    detectors, convert_s = backends_for(weights, cfg, backends)
    auto = None
    if with_auto:
        t0 = time.perf_counter()
        auto = copy.copy(detectors["tensorflow"])
        auto.precision = "auto"      # precision and backend auto: bf16 allowed where the CPU has it
        auto.use_backend("auto")
        auto_s = time.perf_counter() - t0
    boxed = letterbox_image(image[:, :, ::-1].copy(), SIZE)[0][None]
    blob = cv2.dnn.blobFromImage(boxed[0], 1 / 255.0)
    kw = dict(score_threshold=SCORE, iou_threshold=IOU)
    cases = {"opencv end-to-end": lambda: cv_e2e(image), "opencv model": lambda: cv_model(blob)}
    for b, det in detectors.items():
        cases[f"{b} end-to-end"] = lambda det=det: det.detect(image, **kw)
        cases[f"{b} model"] = lambda det=det: det.runtime.decoded(boxed)
    if fast_bfloat16():
        bf16 = Detector.load(weights, cfg=cfg, precision="bfloat16", may_convert=False)  # TF own bf16
        cases["tensorflow bf16 end-to-end"] = lambda: bf16.detect(image, **kw)
    for fn in cases.values():                             # warm-up: tracing, allocations
        fn(), fn()
    per_repeat = []                                       # {case: median ms} of each repeat
    fastest = {}           # each case's fastest round: on a loaded machine, the nearest to a quiet one
    for _ in range(repeat):
        times = {k: [] for k in cases}
        for _ in range(rounds):
            for k, fn in cases.items():
                if settle:
                    time.sleep(settle)            # the previous case's worker threads go idle
                times[k].append(timed(fn))
        per_repeat.append({k: statistics.median(v) for k, v in times.items()})
        for k, v in times.items():
            fastest[k] = min([fastest.get(k, float("inf"))] + v)
    med = {k: statistics.median(r[k] for r in per_repeat) for k in cases}
    ref = detectors["tensorflow"].detect(image, **kw)
    print(f"\n{name}, 80 classes, {SIZE}x{SIZE}, batch 1, median of {repeat} repeats x {rounds} "
          f"interleaved rounds (ms; load average {os.getloadavg()[0]:.1f}):")
    for k, v in med.items():
        peer = "opencv end-to-end" if "end-to-end" in k else "opencv model"
        ratios = sorted(r[k] / r[peer] for r in per_repeat)
        spread = f"   repeats {ratios[0]:.3f}-{ratios[-1]:.3f}" if repeat > 1 else ""
        print(f"  {k:<28} {v:8.1f}   OpenCV / this {med[peer] / v:5.2f}x   "
              f"this / OpenCV {statistics.median(ratios):5.3f}x{spread}   "
              f"fastest {fastest[k]:7.1f} ({fastest[k] / fastest[peer]:.3f}x)")
    print(f"  detections after NMS: opencv {cv_e2e(image)}, tensorflow {len(ref)}; same boxes as "
          "TensorFlow: " + ", ".join(f"{b} {same_boxes(det.detect(image, **kw), ref, tol(b))}"
                                     for b, det in detectors.items() if b != "tensorflow"))
    print("  conversion (first time, then cached): "
          + ", ".join(f"{b} {s:.0f} s" for b, s in convert_s.items()))
    if auto is not None:
        print(f"  auto picked {auto.backend} in {auto_s:.0f} s: {auto.backend_reason}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds per repeat")
    parser.add_argument("--repeat", type=int, default=1,
                        help="repeats of the interleaved rounds; prints the median of the repeats' "
                             "medians and the spread of each ratio over the repeats")
    parser.add_argument("--settle", type=float, default=0.0,
                        help="seconds of pause before each timed call, so threads a previous case left "
                             "spinning (TensorFlow's, OpenCV's, OpenVINO's pools) do not share the cores "
                             "with the next; an application runs one backend, not all in turn")
    parser.add_argument("--models", nargs="+", default=["yolov3-tiny", "yolov3"])
    parser.add_argument("--backends", nargs="+", choices=OPTIONAL + BF16,
                        default=[b for b in OPTIONAL + BF16 if b in available_backends()],
                        help="optional backends to convert and time (tf2onnx needs ~10 GB for the full "
                             "YOLOv3; leave onnxruntime out where memory is short)")
    parser.add_argument("--no-auto", action="store_true",
                        help="skip the 'auto' line: it converts every installed backend, and tf2onnx "
                             "needs ~10 GB for the full YOLOv3")
    args = parser.parse_args()
    print(f"TensorFlow {tf.__version__}, OpenCV {cv2.__version__}, {os.cpu_count()} CPUs, "
          f"cv2 threads {cv2.getNumThreads()}, backends {', '.join(available_backends())}, "
          f"CPU bf16 {'yes' if fast_bfloat16() else 'no'}; load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            bench_model(name, args.rounds, Path(tmp), args.backends, args.repeat, args.settle,
                        not args.no_auto)


if __name__ == "__main__":
    main()
