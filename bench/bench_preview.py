"""Preview throughput: frames/s the panel shows vs. the model alone, and grab->paint latency.

Writes a recorded-camera-like video (640x480, moving shapes), builds
yolov3-tiny at 416 (80 classes, random weights with the heads' logits spread
so that about 8 boxes pass the threshold, like a trained model; speed does not
depend on weight values), then alternates two measurements in one process:

- model only: ``Detector.detect`` in a loop over the decoded frames;
- pipeline: the real PreviewPanel (offscreen) playing the video paced like a
  camera, at a frame rate above the model's so the model is the bottleneck.

Both for "before" (TensorFlow, as the preview ran until the runtime layer)
and "after" (the backend ``auto`` picks with precision auto: OpenVINO bf16 where the
CPU has bf16 and its boxes match), plus OpenVINO bf16 itself where auto rejected it,
interleaved round by round. Prints
each round, then per backend the median frames/s shown and the grab->paint
latency p50/p95, the after/before frames/s ratio (goal 2x), and the CPU
overhead of the pipeline over the model alone (goal < 10%).

    nice -n 10 .venv/bin/python bench/bench_preview.py [--seconds 5] [--rounds 4]
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402


def demo_frames(n: int, size=(640, 480)) -> list[np.ndarray]:
    """Shapes moving over a textured background, like the demo project's images."""
    w, h = size
    rng = np.random.default_rng(0)
    base = cv2.GaussianBlur(rng.integers(90, 170, (h, w, 3), dtype=np.uint8), (0, 0), 9)
    frames = []
    for i in range(n):
        img = base.copy()
        cv2.circle(img, (80 + (5 * i) % 480, 140), 50, (40, 40, 215), -1)
        cv2.rectangle(img, (380, 200 + (3 * i) % 200), (470, 290 + (3 * i) % 200), (45, 185, 45), -1)
        pts = np.array([[150, 420], [230, 300], [310, 420]]) + [(2 * i) % 200, 0]
        cv2.fillPoly(img, [pts.astype(np.int32)], (215, 105, 30))
        frames.append(img)
    return frames


def write_video(path: Path, frames, fps: float) -> Path:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    for f in frames:
        writer.write(f)
    writer.release()
    return path


def trained_like(model, classes: int):
    """Spread the output logits like a trained model's (random heads score every cell ~0.25).

    Speed does not depend on weight values, but the number of boxes drawn does:
    a trained model shows a handful, and drawing 100 labels would bench labels.
    """
    from yolo_studio.core.model import output_layers

    for layer in output_layers(model):
        kernel, bias = layer.get_weights()
        bias = bias.reshape(3, 5 + classes)
        bias[:, 4] = -4.0  # background cells: low objectness
        layer.set_weights([kernel * 80.0, bias.reshape(-1)])
    return model


def realistic_threshold(detector, frames, boxes: int = 8) -> float:
    """A score threshold giving about ``boxes`` detections per frame."""
    per_frame = []
    for f in frames[:10]:
        scores = sorted(d.score for d in detector.detect(f, score_threshold=0.01))
        per_frame.append(scores[-boxes] if len(scores) >= boxes else 0.01)
    return max(0.01, round(float(np.median(per_frame)), 2))


def decoded(video: Path) -> list[np.ndarray]:
    """Every frame of ``video`` as OpenCV decodes it."""
    cap, frames = cv2.VideoCapture(str(video)), []
    ok, image = cap.read()
    while ok:
        frames.append(image)
        ok, image = cap.read()
    cap.release()
    return frames


def model_only_fps(detector, frames, seconds: float, score: float) -> tuple[float, float]:
    """Frames per second of Detector.detect alone, and CPU ms (all threads) per frame."""
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds:
        detector.detect(frames[n % len(frames)], score_threshold=score)
        n += 1
    return n / (time.perf_counter() - t0), (time.process_time() - c0) * 1000 / n


def pipeline_fps(app, panel, seconds: float, warmup: float = 1.5):
    """Frames per second painted by the panel over ``seconds`` after a warm-up."""
    from PySide6.QtCore import QEventLoop, QTimer

    def run_loop(s):
        loop = QEventLoop()
        QTimer.singleShot(int(s * 1000), loop.quit)
        loop.exec()

    panel.start()
    deadline = time.perf_counter() + 120
    while panel.stats.frames_shown == 0 and time.perf_counter() < deadline:
        run_loop(0.05)
    run_loop(warmup)
    n0, lat0, t0 = panel.stats.frames_shown, len(panel.stats.all_latency_ms), time.perf_counter()
    c0 = time.process_time()
    run_loop(seconds)
    n1, t1, c1 = panel.stats.frames_shown, time.perf_counter(), time.process_time()
    latencies = panel.stats.all_latency_ms[lat0:]
    stages = {k: panel.stats.median(k) for k in ("grab", "infer", "draw")}
    stages["boxes"] = len(panel.view.detections)
    dropped = panel.last_result.dropped if panel.last_result else 0
    panel.stop()
    panel._wait_threads()
    app.processEvents()
    cpu_ms = (c1 - c0) * 1000 / max(1, n1 - n0)
    return (n1 - n0) / (t1 - t0), cpu_ms, latencies, stages, dropped


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="length of each measurement")
    ap.add_argument("--rounds", type=int, default=4, help="rounds; each measures every backend")
    ap.add_argument("--size", type=int, default=416, help="network input size")
    args = ap.parse_args(argv)
    # The panel is handed each detector ready-made; it must not convert one itself.
    os.environ["YOLO_STUDIO_BACKEND"] = "tensorflow"

    from PySide6.QtWidgets import QApplication

    from yolo_studio.core.detector import Detector
    from yolo_studio.core.runtime import available_backends
    from yolo_studio.core.runtime.select import make_runtime
    from yolo_studio.core.model import ModelSpec, build_model, save_checkpoint
    from yolo_studio.gui.context import AppContext
    from yolo_studio.gui.preview.panel import PreviewPanel, _file_key

    app = QApplication.instance() or QApplication(sys.argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-preview-"))
    stem = save_checkpoint(trained_like(build_model("yolov3-tiny", 80, args.size), 80),
                           ModelSpec("yolov3-tiny", 80, args.size), tmp / "tiny")
    weights = stem.with_name(stem.name + ".weights.h5")
    originals = demo_frames(90)
    # The model-only loop sees the same pixels as the pipeline: decoded MJPG.
    frames = decoded(write_video(tmp / "probe.avi", originals, 30.0))
    before = Detector.load(weights)
    # precision and backend auto: OpenVINO bf16 may be picked where the CPU has bf16
    after = Detector.load(weights, precision="auto", backend="auto")
    reason = after.backend_reason
    detectors = {"before: tensorflow": before, f"after: {after.backend}": after}
    if after.backend != "openvino-bf16" and "openvino-bf16" in available_backends():
        # timed beside them even where auto rejects it (its boxes differ): what bf16 would give
        import copy

        bf16 = copy.copy(after)
        bf16.runtime = make_runtime(after, "openvino-bf16")
        detectors["openvino-bf16 (unchecked)"] = bf16
    score = realistic_threshold(before, frames)
    for det in detectors.values():
        model_only_fps(det, frames, 2.0, score)  # trace and warm caches
    fastest = max(model_only_fps(det, frames, 3.0, score)[0] for det in detectors.values())
    # The source must outpace the model, or the ratio would measure the video; but a file
    # claiming more than 240 fps is played at 25 (core/sources.py: containers without a sane
    # rate), which capped every backend at 25 shown fps once bf16 made the fastest model 125.
    video_fps = float(min(240, max(30, int(2.5 * fastest))))
    video = write_video(tmp / "recorded.avi", originals, video_fps)

    panel = PreviewPanel(AppContext(None))
    panel.resize(1280, 760)
    panel.show()
    panel.source_picker.set_kind("video")
    panel.source_picker.video_path.setText(str(video))
    panel.source_picker.loop.setChecked(True)
    panel.model_picker.choose_file(weights)
    panel.score_slider.setValue(score)

    print(f"yolov3-tiny at {args.size}, score threshold {score}, 640x480 MJPG video at "
          f"{video_fps:.0f} fps, {os.cpu_count()} CPUs (shared: load average "
          f"{os.getloadavg()[0]:.1f}), {args.rounds} rounds of {args.seconds:.0f} s per backend")
    print(f"auto picked: {reason}")
    rows = {k: [] for k in detectors}
    latencies = {k: [] for k in detectors}
    for r in range(args.rounds):
        for label, det in detectors.items():          # interleaved: a busy neighbour hits both
            m, m_cpu = model_only_fps(det, frames, args.seconds, score)
            panel.detector, panel._detector_key = det, _file_key(weights)
            p, p_cpu, lat, stages, dropped = pipeline_fps(app, panel, args.seconds)
            rows[label].append((m, p, m_cpu, p_cpu))
            latencies[label] += lat
            print(f"round {r + 1} {label:<22}: model only {m:6.2f} fps | preview shown {p:6.2f} fps, "
                  f"CPU ratio {p_cpu / m_cpu:.3f} | medians grab {stages['grab']:.1f} ms, detect "
                  f"{stages['infer']:.1f} ms, draw {stages['draw']:.1f} ms, {stages['boxes']} boxes "
                  f"| dropped {dropped}")
    shown = {}
    for label in detectors:
        m, p, m_cpu, p_cpu = np.array(rows[label]).T
        lat = np.array(latencies[label])
        shown[label] = float(np.median(p))
        print(f"{label:<22}: preview {np.median(p):6.2f} fps shown (model alone {np.median(m):6.2f}), "
              f"grab->paint p50 {np.percentile(lat, 50):.1f} ms, p95 {np.percentile(lat, 95):.1f} ms "
              f"over {lat.size} frames; pipeline CPU overhead {100 * (np.median(p_cpu / m_cpu) - 1):.1f}%")
    b, a = list(shown.values())[:2]
    print(f"preview frames/s after / before: {a / b:.2f}x (goal 2x)"
          + "".join(f"; {k} / before: {v / b:.2f}x" for k, v in list(shown.items())[2:]))
    print(f"load average now: {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
          "(other processes on these cores skew fps; the runs are interleaved so both see them)")
    panel.shutdown()
    shutil.rmtree(tmp, ignore_errors=True)     # ~100 MB of model, video and conversions
    return 0


if __name__ == "__main__":
    sys.exit(main())
