"""YOLOv3-tiny from scratch on the demo project until val mAP@0.5 >= 0.9.

Prints the mAP after every epoch and the wall time to reach the target.
Usage: python bench/bench_convergence.py [--size 224] [--epochs 30] [--lr 2e-3] [--batch 16]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=300)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup", type=float, default=1.0)
    p.add_argument("--target", type=float, default=0.9)
    p.add_argument("--project", help="reuse this demo project folder (generated if missing)")
    args = p.parse_args()

    from yolo_studio.core.demo import generate_demo_project
    from yolo_studio.core.project import Project
    from yolo_studio.core.training.events import TrainConfig
    from yolo_studio.core.training.trainer import Trainer

    root = args.project or os.path.join(tempfile.mkdtemp(prefix="yolo-conv-"), "demo")
    if not os.path.exists(os.path.join(root, "yolo_studio.json")):
        generate_demo_project(root, n_images=args.images, seed=0)
    project = Project.open(root)
    train, val = project.split()
    print(f"demo project: {len(train)} train / {len(val)} val images, classes {project.classes}")
    config = TrainConfig(model="yolov3-tiny", input_size=args.size, batch_size=args.batch,
                         epochs=args.epochs, lr_init=args.lr, lr_end=args.lr / 100,
                         warmup_epochs=args.warmup, augment=True, seed=0)
    print(f"config: size {args.size}, batch {args.batch}, lr {args.lr:g} -> {args.lr / 100:g}, "
          f"warmup {args.warmup} epochs, at most {args.epochs} epochs")
    stop = threading.Event()
    t0 = time.monotonic()
    reached = {}

    class Listener:
        def on_message(self, text):
            print(text)

        def on_batch(self, r):
            pass

        def on_epoch(self, r):
            wall = time.monotonic() - t0
            aps = " ".join(f"{k} {v:.3f}" for k, v in r.per_class_ap.items())
            print(f"epoch {r.epoch + 1:3d}  mAP@0.5 {r.map50:.4f}  mAP@[.5:.95] {r.map50_95:.4f}  "
                  f"train loss {r.train_loss:7.3f}  val loss {r.val_total_loss:7.3f}  "
                  f"[{aps}]  epoch {r.seconds:5.1f}s  wall {wall:6.1f}s", flush=True)
            if r.map50 is not None and r.map50 >= args.target and not reached:
                reached.update(epoch=r.epoch + 1, wall=wall, map50=r.map50)
                stop.set()

        def on_end(self, r):
            print(f"end: {r.reason}: {r.message}")

    Trainer(project, config, Listener()).run(stop)
    if reached:
        print(f"RESULT: mAP@0.5 {reached['map50']:.4f} >= {args.target} after {reached['epoch']} "
              f"epochs, {reached['wall']:.0f} s wall time ({os.cpu_count()} CPU cores)")
        return 0
    print(f"RESULT: target mAP@0.5 {args.target} NOT reached in {args.epochs} epochs "
          f"({time.monotonic() - t0:.0f} s)")
    return 1


if __name__ == "__main__":
    sys.exit(main())
