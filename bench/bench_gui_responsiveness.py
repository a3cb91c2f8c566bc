"""How smooth the window stays while YOLOv3-tiny trains in the training panel.

Prints, for one process on this machine:
- the lateness of a 10 ms QTimer on the GUI thread while training runs
  (p50 / p99 / max, in ms; the goal is p99 < 50 ms), over whole epochs, and
  split by what the trainer was doing: batches, validation (losses and mAP),
  checkpoint (weights and resume state), and the rest of an epoch's end
  (results.csv, summaries, the epoch report reaching the panel, the next
  epoch's data pipeline);
- training images/s inside the GUI against the plain Trainer (what the CLI
  runs) on the same settings and data, as a ratio (goal: GUI costs < 10%;
  --lateness-only skips it).

Both runs measure speed the same way: images per second of wall time between
the first and the last batch of the later epochs (the first epoch pays for
tracing the train step). Run: `python bench/bench_gui_responsiveness.py`
(add --input-size 320 --images 96 for a heavier load; QT_QPA_PLATFORM=offscreen
works without a display).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # runs on a server too


def parse_args(argv=None) -> argparse.Namespace:
    """The bench's settings."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=64, help="demo images to generate")
    p.add_argument("--input-size", type=int, default=160)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--training-nice", type=int, default=None,
                   help="override the panel's TRAINING_NICE (0: same priority as the window)")
    p.add_argument("--repeats", type=int, default=2,
                   help="alternate plain/GUI runs this many times (noise check)")
    p.add_argument("--switch-interval", type=float, default=None,
                   help="sys.setswitchinterval for the whole run, in seconds (Python's default 0.005)")
    p.add_argument("--lateness-only", action="store_true",
                   help="only the GUI runs and their lateness, no plain-Trainer throughput")
    return p.parse_args(argv)


class SlotTimes:
    """How long the panel's own slots kept the GUI thread busy (ms per call), by slot."""

    SLOTS = (("TrainingPlots", "flush"), ("TrainingPanel", "_on_batch"),
             ("TrainingPanel", "_on_epoch"), ("TrainingPanel", "_show_runs"),
             ("TrainingPanel", "_update_progress"))

    def __init__(self):
        self.ms: dict[str, list[float]] = {name: [] for _, name in self.SLOTS}

    def install(self):
        """Wrap the slots (on their classes, before the panel connects them); returns an undo."""
        from yolo_studio.gui.training import panel, plots

        owners = {"TrainingPlots": plots.TrainingPlots, "TrainingPanel": panel.TrainingPanel}
        originals = [(owners[o], name, getattr(owners[o], name)) for o, name in self.SLOTS]
        for owner, name, original in originals:
            setattr(owner, name, self._timed(name, original))

        def undo():
            for owner, name, original in originals:
                setattr(owner, name, original)
        return undo

    def _timed(self, name: str, fn):
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.ms[name].append((time.perf_counter() - t0) * 1e3)
        timed.__name__ = fn.__name__
        return timed


class Phases:
    """When the trainer validated and wrote checkpoints (wall-clock intervals, any thread)."""

    def __init__(self):
        self.intervals: dict[str, list[tuple[float, float]]] = {"validation": [], "checkpoint": []}

    def install(self):
        """Wrap the trainer's validation and checkpoint calls to time them; returns an undo."""
        from yolo_studio.core.training import trainer as trainer_module
        from yolo_studio.core.training import validation

        originals = [(validation, "validate", validation.validate),
                     (trainer_module.Trainer, "_save_weights", trainer_module.Trainer._save_weights),
                     (trainer_module.Trainer, "_save_resume", trainer_module.Trainer._save_resume)]
        for owner, name, original in originals:
            phase = "validation" if name == "validate" else "checkpoint"
            setattr(owner, name, self._timed(phase, original))

        def undo():
            for owner, name, original in originals:
                setattr(owner, name, original)
        return undo

    def _timed(self, phase: str, fn):
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.intervals[phase].append((t0, time.perf_counter()))
        return timed


class Timing:
    """Wall-clock time of each batch, taken on the trainer's thread."""

    def __init__(self):
        self.times: list[tuple[int, int, float]] = []   # (epoch, step, t)

    def mark(self, report) -> None:
        """Note the time of one batch."""
        self.times.append((report.epoch, report.step, time.perf_counter()))

    def images_per_sec(self, batch: int) -> float:
        """Throughput over every epoch after the first (tracing excluded)."""
        later = [t for t in self.times if t[0] >= 1]
        if len(later) < 2:
            later = self.times[len(self.times) // 2:]
        steps = later[-1][1] - later[0][1]
        return steps * batch / (later[-1][2] - later[0][2]) if steps else float("nan")


class PlainListener:
    """The CLI's view of training: it only keeps the batch times."""

    def __init__(self, timing: Timing):
        self.timing = timing

    def on_message(self, text):
        pass

    def on_batch(self, report):
        self.timing.mark(report)

    def on_epoch(self, report):
        pass

    def on_end(self, report):
        self.end = report


def plain_run(project_root: Path, cfg) -> float:
    """images/s of the Trainer alone, on this (main) thread, like `yolo-studio train`."""
    from yolo_studio.core.project import Project
    from yolo_studio.core.training.trainer import Trainer

    timing = Timing()
    listener = PlainListener(timing)
    Trainer(Project.open(project_root), cfg, listener=listener).run(threading.Event())
    if listener.end.reason != "finished":
        sys.exit(f"plain run {listener.end.reason}: {listener.end.message}")
    return timing.images_per_sec(cfg.batch_size)


def gui_run(app, project_root: Path, cfg) -> tuple[float, list[tuple[float, float]], Timing, Phases]:
    """images/s inside the panel, the 10 ms timer's (time, lateness ms), batch times and phases."""
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    from yolo_studio.core.project import Project
    from yolo_studio.gui.context import AppContext
    from yolo_studio.gui.training import worker as worker_module
    from yolo_studio.gui.training.panel import TrainingPanel

    timing = Timing()
    original = worker_module.TrainWorker.on_batch

    def timed_on_batch(self, report):     # same clock, same thread as the plain run
        timing.mark(report)
        original(self, report)

    worker_module.TrainWorker.on_batch = timed_on_batch
    phases = Phases()
    undo_phases = phases.install()
    undo_slots = SLOT_TIMES.install()
    panel = TrainingPanel(AppContext(Project.open(project_root)))
    panel.resize(1400, 900)
    panel.show()
    panel.form.set_config(cfg)
    lateness: list[tuple[float, float]] = []
    ticker = QTimer()
    ticker.setTimerType(Qt.TimerType.PreciseTimer)
    ticker.setInterval(10)
    last = [None]

    def tick():
        now = time.perf_counter()
        if last[0] is not None and timing.times:     # only while batches flow
            lateness.append((now, max(0.0, (now - last[0]) * 1e3 - 10.0)))
        last[0] = now

    ticker.timeout.connect(tick)
    loop = QEventLoop()
    panel.runEnded.connect(lambda r: loop.quit())
    ticker.start()
    panel.start()
    loop.exec()
    ticker.stop()
    panel.wait_for_workers()
    worker_module.TrainWorker.on_batch = original
    undo_phases()
    undo_slots()
    if panel.message_bar.kind == "error":
        sys.exit(f"GUI run failed: {panel.message_bar.text()}")
    panel.close()
    return timing.images_per_sec(cfg.batch_size), lateness, timing, phases


SLOT_TIMES = SlotTimes()
PHASES = ("batches", "validation", "checkpoint", "rest of the epoch end")


def split_by_phase(lateness, timing: Timing, phases: Phases) -> dict[str, list[float]]:
    """Each tick's lateness under the phase the trainer was in while the tick waited."""
    gaps = []     # (last batch of an epoch, first batch of the next): the epoch ends
    for (e0, _, t0), (e1, _, t1) in zip(timing.times, timing.times[1:]):
        if e1 != e0:
            gaps.append((t0, t1))
    out = {name: [] for name in PHASES}
    for t, late in lateness:
        # A tick is late for what ran while it waited: from when it was due until now.
        due = t - late / 1e3

        def overlaps(intervals):
            return any(a <= t and due <= b for a, b in intervals)

        phase = ("validation" if overlaps(phases.intervals["validation"])
                 else "checkpoint" if overlaps(phases.intervals["checkpoint"])
                 else "rest of the epoch end" if overlaps(gaps) else "batches")
        out[phase].append(late)
    return out


def describe(name: str, values: list[float]) -> str:
    """One line of lateness figures."""
    if not values:
        return f"{name}: no ticks"
    return (f"{name} ({len(values)} ticks): lateness p50 {percentile(values, 50):.1f} ms, "
            f"p99 {percentile(values, 99):.1f} ms, max {max(values):.1f} ms")


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main(argv=None) -> int:
    """Run the bench and print its figures."""
    args = parse_args(argv)
    from PySide6.QtWidgets import QApplication

    from yolo_studio.core.demo import generate_demo_project
    from yolo_studio.core.training.events import TrainConfig

    app = QApplication.instance() or QApplication([])
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    from yolo_studio.gui.training import worker as worker_module
    if args.training_nice is not None:
        worker_module.TRAINING_NICE = args.training_nice
    # mAP every epoch (the panel's default): each epoch end runs the full validation.
    cfg = TrainConfig(model="yolov3-tiny", input_size=args.input_size, batch_size=args.batch,
                      epochs=args.epochs, warmup_epochs=0, augment=True, map_every=1)
    with tempfile.TemporaryDirectory() as tmp:
        root = generate_demo_project(Path(tmp) / "demo", n_images=args.images, seed=3,
                                     min_size=128, max_size=320)
        print(f"yolov3-tiny, {args.images} images at {args.input_size}px, batch {args.batch}, "
              f"{args.epochs} epochs, {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.1f}; Qt platform {app.platformName()}; training thread "
              f"nice +{worker_module.TRAINING_NICE}; GIL switch interval "
              f"{sys.getswitchinterval() * 1e3:g} ms")
        # One discarded run pays the process's one-time costs (TF start-up, kernel
        # caches), then plain/GUI alternate in ABBA order so drift in machine load cancels.
        if not args.lateness_only:
            plain_run(root, TrainConfig.from_dict({**cfg.to_dict(), "epochs": 2}))
        plain, gui, late = [], [], []
        by_phase = {name: [] for name in PHASES}
        for i in range(args.repeats):
            if i % 2 == 0 and not args.lateness_only:
                plain.append(plain_run(root, cfg))
            g, lateness, timing, phases = gui_run(app, root, cfg)
            if i % 2 == 1 and not args.lateness_only:
                plain.append(plain_run(root, cfg))
            gui.append(g)
            late += [v for _, v in lateness]
            for name, values in split_by_phase(lateness, timing, phases).items():
                by_phase[name] += values
    print(describe("10 ms GUI timer while training, all", late))
    for name, values in by_phase.items():
        print("  " + describe(f"during {name}", values))
    print("the panel's own work on the GUI thread, ms per call (p99 / max):")
    for name, values in SLOT_TIMES.ms.items():
        if values:
            print(f"  {name}: {len(values)} calls, p99 {percentile(values, 99):.1f}, "
                  f"max {max(values):.1f}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    if args.lateness_only:
        print("images/s in the GUI: " + ", ".join(f"{v:.1f}" for v in gui))
        return 0
    print("images/s plain Trainer: " + ", ".join(f"{v:.1f}" for v in plain))
    print("images/s in the GUI:    " + ", ".join(f"{v:.1f}" for v in gui))
    ratio = statistics.median(gui) / statistics.median(plain)
    print(f"GUI / plain throughput (median of {args.repeats}): {ratio:.3f} "
          f"({(1 - ratio) * 100:+.1f}% cost)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
