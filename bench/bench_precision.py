"""Training precisions: train-step time ratios, and mAP after the same short training.

Step times use the trainer's own compiled step (real YOLO loss) on a constant
batch; modes alternate so machine load hits all alike. The mAP part trains
yolov3-tiny from scratch on the demo project with the same seed and schedule
once per precision (the Trainer's 'precision' setting: float32, auto -- what
this machine picks --, and the forced others) and prints mAP@0.5 and time.
Usage: python bench/bench_precision.py [--skip-steps] [--map-epochs 5] [--map-size 224]
       [--modes float32,auto,bfloat16,float16] [--images 150]
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

    from yolo_studio.core.model_family import family
    from yolo_studio.core.model import build_model
    from yolo_studio.core.training.device import POLICIES, dtype_policy
    from yolo_studio.core.training.steps import make_train_step

    images, targets, truth, anchors = data
    keras.utils.set_random_seed(0)
    with dtype_policy(POLICIES.get(mode)):
        model = build_model(model_name, 3, size)
    opt = keras.optimizers.Adam(1e-4)
    if mode == "float16":
        opt = keras.optimizers.LossScaleOptimizer(opt)
    opt.build(model.trainable_variables)
    step = make_train_step(tf.distribute.get_strategy(), model, opt, model.trainable_variables,
                           anchors, list(family(model_name).strides), batch, jit_compile=(mode == "xla"))
    step(images, targets, truth).numpy()
    t0 = time.perf_counter()
    for _ in range(steps):
        step(images, targets, truth).numpy()
    return (time.perf_counter() - t0) / steps


def _batch(root: str, model_name: str, size: int, batch: int):
    from yolo_studio.core.model_family import family
    from yolo_studio.core.project import Project
    from yolo_studio.core.training.pipeline import DataSource, load_samples

    project = Project.open(root)
    samples, _ = load_samples(project, project.image_paths(), project.classes)
    anchors = project.model_anchors(model_name, size)
    src = DataSource(samples, len(project.classes), size, anchors, list(family(model_name).strides))
    images, targets, truth, _ = next(iter(src.dataset(0, batch, train=True)))
    return images, targets, truth, anchors


def step_ratios(root: str, steps: int, repeats: int) -> None:
    """Print per-step seconds and ratios to float32 for each model and mode."""
    from yolo_studio.core.training.device import has_gpu

    mixed = "float16" if has_gpu() else "bfloat16"
    for model_name, size, batch in (("yolov3-tiny", 416, 8), ("yolov3", 416, 2)):
        data = _batch(root, model_name, size, batch)
        times = {m: [] for m in ("float32", mixed, "xla")}
        for _ in range(repeats):
            for mode in times:
                times[mode].append(_step_rate(model_name, size, batch, mode, data, steps))
        base = statistics.median(times["float32"])
        parts = [f"{m} {statistics.median(v):.3f}s "
                 f"(x{base / statistics.median(v):.2f})" for m, v in times.items()]
        print(f"{model_name:12s} {size}px batch {batch} step time: " + " | ".join(parts) +
              "  [x = speed-up over float32]", flush=True)


def map_after_training(root: str, epochs: int, size: int, modes: list[str]) -> None:
    """Train the same short schedule once per precision; print mAP@0.5 and time of each."""
    from yolo_studio.core.project import Project
    from yolo_studio.core.training.device import training_precision
    from yolo_studio.core.training.events import TrainConfig
    from yolo_studio.core.training.trainer import Trainer

    print(f"'auto' trains in {training_precision('auto')} on this machine", flush=True)
    results, trained = {}, {}
    for mode in modes:
        resolved = training_precision(mode)
        if resolved in trained:      # 'auto' resolved to a precision already trained: same run
            results[mode] = trained[resolved]
            print(f"  {mode}: the same run as {resolved}", flush=True)
            continue
        config = TrainConfig(model="yolov3-tiny", input_size=size, batch_size=16, epochs=epochs,
                             lr_init=2e-3, lr_end=2e-5, warmup_epochs=1, precision=mode,
                             map_every=epochs, seed=0)
        t0 = time.monotonic()
        end = Trainer(Project.open(root), config).run()
        results[mode] = (end.best_map50 or 0.0, time.monotonic() - t0)
        trained[resolved] = results[mode]
        print(f"  {mode}: mAP@0.5 {results[mode][0]:.4f} in {results[mode][1]:.0f}s "
              f"({end.reason})", flush=True)
    line = " | ".join(f"{k}: mAP@0.5 {v[0]:.4f} in {v[1]:.0f}s" for k, v in results.items())
    print(f"yolov3-tiny {size}px, {epochs} epochs from scratch on the demo project: {line}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--map-epochs", type=int, default=5)
    p.add_argument("--map-size", type=int, default=224)
    p.add_argument("--modes", default="float32,auto,bfloat16",
                   help="precisions to train in (float16 is the GPU path; on a CPU it is slow)")
    p.add_argument("--images", type=int, default=300, help="demo images when generating one")
    p.add_argument("--skip-map", action="store_true")
    p.add_argument("--skip-steps", action="store_true")
    p.add_argument("--project", help="demo project folder to reuse (generated if missing)")
    args = p.parse_args()

    from yolo_studio.core.demo import generate_demo_project

    root = args.project or os.path.join(tempfile.mkdtemp(prefix="yolo-prec-"), "demo")
    if not os.path.exists(os.path.join(root, "yolo_studio.json")):
        generate_demo_project(root, n_images=args.images, seed=0)
    print(f"{os.cpu_count()} CPU cores")
    if not args.skip_steps:
        step_ratios(root, args.steps, args.repeats)
    if not args.skip_map:
        map_after_training(root, args.map_epochs, args.map_size, args.modes.split(","))
    return 0


if __name__ == "__main__":
    sys.exit(main())
