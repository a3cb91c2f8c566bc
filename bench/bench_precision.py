"""float32 vs mixed precision vs XLA: train-step time ratios, and mAP after equal short training.

Step times use the trainer's own compiled step (real YOLO loss) on a constant
batch; modes alternate so machine load hits all alike. The mAP part trains
yolov3-tiny from scratch on the demo project for the same epochs in float32
and in mixed precision (bfloat16 on CPU, float16 on GPU) and prints both.
Usage: python bench/bench_precision.py [--steps 4] [--map-epochs 8] [--map-size 256] [--skip-map]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _step_rate(model_name: str, size: int, batch: int, mode: str, data, steps: int) -> float:
    import keras
    import tensorflow as tf

    from yolo_studio.core import defaults
    from yolo_studio.core.model import build_model
    from yolo_studio.core.training.device import dtype_policy, mixed_policy_name
    from yolo_studio.core.training.steps import make_train_step

    images, targets, truth, anchors = data
    keras.utils.set_random_seed(0)
    with dtype_policy(mixed_policy_name() if mode == "mixed" else None):
        model = build_model(model_name, 3, size)
    opt = keras.optimizers.Adam(1e-4)
    opt.build(model.trainable_variables)
    step = make_train_step(tf.distribute.get_strategy(), model, opt, model.trainable_variables,
                           anchors, defaults.strides(model_name), batch, jit_compile=(mode == "xla"))
    step(images, targets, truth).numpy()
    t0 = time.perf_counter()
    for _ in range(steps):
        step(images, targets, truth).numpy()
    return (time.perf_counter() - t0) / steps


def _batch(root: str, model_name: str, size: int, batch: int):
    from yolo_studio.core import defaults
    from yolo_studio.core.project import Project
    from yolo_studio.core.training.pipeline import DataSource, load_samples

    project = Project.open(root)
    samples, _ = load_samples(project, project.image_paths(), project.classes)
    anchors = project.model_anchors(model_name, size)
    src = DataSource(samples, len(project.classes), size, anchors, defaults.strides(model_name))
    images, targets, truth, _ = next(iter(src.dataset(0, batch, train=True)))
    return images, targets, truth, anchors


def step_ratios(root: str, steps: int, repeats: int) -> None:
    """Print per-step seconds and ratios to float32 for each model and mode."""
    from yolo_studio.core.training.device import mixed_policy_name

    mixed = mixed_policy_name()
    for model_name, size, batch in (("yolov3-tiny", 416, 8), ("yolov3", 416, 2)):
        data = _batch(root, model_name, size, batch)
        times = {m: [] for m in ("float32", "mixed", "xla")}
        for _ in range(repeats):
            for mode in times:
                times[mode].append(_step_rate(model_name, size, batch, mode, data, steps))
        base = statistics.median(times["float32"])
        parts = [f"{m if m != 'mixed' else mixed} {statistics.median(v):.3f}s "
                 f"(x{base / statistics.median(v):.2f})" for m, v in times.items()]
        print(f"{model_name:12s} {size}px batch {batch} step time: " + " | ".join(parts) +
              "  [x = speed-up over float32]", flush=True)


def map_after_training(root: str, epochs: int, size: int) -> None:
    """Train the same short schedule in float32 and in mixed precision; print both mAPs."""
    from yolo_studio.core.project import Project
    from yolo_studio.core.training.device import mixed_policy_name
    from yolo_studio.core.training.events import TrainConfig
    from yolo_studio.core.training.trainer import Trainer

    results = {}
    for mixed in (False, True):
        config = TrainConfig(model="yolov3-tiny", input_size=size, batch_size=16, epochs=epochs,
                             lr_init=2e-3, lr_end=2e-5, warmup_epochs=1, mixed_precision=mixed,
                             map_every=epochs, seed=0)
        t0 = time.monotonic()
        end = Trainer(Project.open(root), config).run()
        results[mixed_policy_name() if mixed else "float32"] = (end.best_map50, time.monotonic() - t0)
    line = " | ".join(f"{k}: mAP@0.5 {v[0]:.4f} in {v[1]:.0f}s" for k, v in results.items())
    print(f"yolov3-tiny {size}px, {epochs} epochs from scratch on the demo project: {line}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--map-epochs", type=int, default=8)
    p.add_argument("--map-size", type=int, default=256)
    p.add_argument("--skip-map", action="store_true")
    p.add_argument("--skip-steps", action="store_true")
    p.add_argument("--project", help="demo project folder to reuse (generated if missing)")
    args = p.parse_args()

    from yolo_studio.core.demo import generate_demo_project

    root = args.project or os.path.join(tempfile.mkdtemp(prefix="yolo-prec-"), "demo")
    if not os.path.exists(os.path.join(root, "yolo_studio.json")):
        generate_demo_project(root, n_images=300, seed=0)
    print(f"{os.cpu_count()} CPU cores")
    if not args.skip_steps:
        step_ratios(root, args.steps, args.repeats)
    if not args.skip_map:
        map_after_training(root, args.map_epochs, args.map_size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
