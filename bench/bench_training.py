"""Training throughput: end to end (tf.data pipeline + YOLO loss + step) against a bare
forward+backward of the same model on a constant batch, for yolov3 and yolov3-tiny.

The bare step uses a trivial loss (mean of the raw outputs) on one batch that
stays in memory, so the difference is what the pipeline and the real loss cost.
Runs alternate (bare, end to end, bare, ...) and medians are reported, so
other load on the machine hits both sides alike.
The end-to-end side is the trainer's default recipe: its target assignment and
smoothing in the pipeline, and the weight EMA's update after every step.
Usage: python bench/bench_training.py [--size 416] [--steps 4] [--repeats 2] [--models yolov3-tiny,yolov3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

BATCH = {"yolov3-tiny": 8, "yolov3": 2}


def _setup(model_name: str, size: int, root: str):
    import keras
    import tensorflow as tf

    from yolo_studio.core.model_family import family
    from yolo_studio.core.model import build_model
    from yolo_studio.core.project import Project
    from yolo_studio.core.training.events import TrainConfig
    from yolo_studio.core.training.pipeline import DataSource, load_samples

    project = Project.open(root)
    samples, _ = load_samples(project, project.image_paths(), project.classes)
    anchors = project.model_anchors(model_name, size)
    strides = list(family(model_name).strides)
    cfg = TrainConfig()
    targets = {"assignment": cfg.assignment, "assign_iou": cfg.assign_iou,
               "label_smoothing": cfg.label_smoothing}
    source = DataSource(samples, len(project.classes), size, anchors, strides, augment=True,
                        target_options=targets)
    keras.utils.set_random_seed(0)
    model = build_model(model_name, len(project.classes), size)
    return tf, keras, model, source, anchors, strides


def _bare_step(tf, keras, model):
    opt = keras.optimizers.Adam(1e-4)
    variables = model.trainable_variables
    opt.build(variables)

    @tf.function
    def step(images):
        with tf.GradientTape() as tape:
            loss = tf.add_n([tf.reduce_mean(o) for o in model(images, training=True)])
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    return step


def _time_bare(step, images, steps: int) -> list[float]:
    step(images).numpy()                    # trace + warm up
    times = []
    for _ in range(steps):
        t0, c0 = time.perf_counter(), time.process_time()
        step(images).numpy()
        times.append((time.perf_counter() - t0, time.process_time() - c0))
    return times


def _time_e2e(tf, keras, model, source, anchors, strides, batch: int, steps: int,
              epoch: int, ema_decay: float) -> list[float]:
    from yolo_studio.core.training.ema import WeightEMA
    from yolo_studio.core.training.steps import make_train_step

    opt = keras.optimizers.Adam(1e-4)
    opt.build(model.trainable_variables)
    ema = WeightEMA(model, ema_decay) if ema_decay > 0 else None
    step = make_train_step(tf.distribute.get_strategy(), model, opt, model.trainable_variables,
                           anchors, strides, batch, ema=ema)
    it = iter(source.dataset(epoch, batch, train=True))
    images, targets, truth, _ = next(it)
    step(images, targets, truth).numpy()     # trace + warm up, pipeline already primed
    times = []
    for _ in range(steps):
        t0, c0 = time.perf_counter(), time.process_time()
        images, targets, truth, _ = next(it)
        step(images, targets, truth).numpy()
        times.append((time.perf_counter() - t0, time.process_time() - c0))
    return times


def _time_pipeline(source, batch: int, n: int) -> float:
    it = iter(source.dataset(99, batch, train=True))
    next(it)
    t0 = time.perf_counter()
    for _ in range(n):
        next(it)
    return n * batch / (time.perf_counter() - t0)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=416)
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--models", default="yolov3-tiny,yolov3")
    p.add_argument("--ema", type=float, default=None,
                   help="weight-EMA decay on the end-to-end side (default: TrainConfig's)")
    args = p.parse_args()
    from yolo_studio.core.training.events import TrainConfig
    ema = TrainConfig().ema_decay if args.ema is None else args.ema

    from yolo_studio.core.demo import generate_demo_project

    root = os.path.join(tempfile.mkdtemp(prefix="yolo-bench-"), "demo")
    generate_demo_project(root, n_images=80, seed=0)
    print(f"{os.cpu_count()} CPU cores, input {args.size}px, demo images 256-640 px (JPEG decode + "
          f"flip/crop/translate/HSV + letterbox + targets per image); EMA {ema:g} on the "
          f"end-to-end side")
    for name in args.models.split(","):
        tf, keras, model, source, anchors, strides = _setup(name, args.size, root)
        batch = BATCH.get(name, 4)
        images = tf.constant(next(iter(source.dataset(0, batch, train=True)))[0])
        bare_step = _bare_step(tf, keras, model)
        bare, e2e = [], []
        for r in range(args.repeats):
            bare += _time_bare(bare_step, images, args.steps)
            e2e += _time_e2e(tf, keras, model, source, anchors, strides, batch, args.steps, r, ema)
        pipe = _time_pipeline(source, batch, 6)
        # Median steps show typical speed; the fastest steps are the least disturbed by
        # other load on a shared machine. Under heavy load both swing with the neighbours;
        # the process CPU time per step (every thread of the process: the step's and the
        # input pipeline's) counts the work itself, which on a machine of its own is what
        # the wall time becomes once the step keeps every core busy.
        for label, pick, k in (("median step", statistics.median, 0), ("fastest step", min, 0),
                               ("CPU s/step", statistics.median, 1)):
            b, e = pick(t[k] for t in bare), pick(t[k] for t in e2e)
            unit = "img/s" if k == 0 else "img per CPU s"
            print(f"{name:12s} batch {batch} {label:12s}: bare fwd+bwd {batch / b:6.2f} {unit} | "
                  f"end to end {batch / e:6.2f} {unit} | overhead {100 * (e / b - 1):+5.1f}%",
                  flush=True)
        print(f"{name:12s} pipeline alone {pipe:6.1f} img/s ({len(bare)} steps each side)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
