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

Each figure is given for the two ways the panel can host the trainer,
alternated in one process (ABAB, medians): `process`, what the panel does (the
trainer in its own spawned process, reports relayed over a pipe), and
`thread`, what it did before (the trainer on a thread of the window's
process, that thread made 5 nicer, sharing the GIL with the GUI thread).
Between them, `idle`: the same timer with the panel open and nothing
training, as long as a run's batches flowed, which is the lateness the
machine causes by itself (on shared cores, the part no change to the panel
can remove). The garbage collector's pauses in the GUI's process are
printed per host too. `--hosts process` runs only the panel's way.

Both runs measure speed the same way: images per second of wall time between
the first and the last batch of the later epochs (the first epoch pays for
tracing the train step). Run: `python bench/bench_gui_responsiveness.py`
(add --input-size 320 --images 96 for a heavier load; QT_QPA_PLATFORM=offscreen
works without a display).
"""
from __future__ import annotations

import argparse
import gc
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
    p.add_argument("--hosts", default="thread,idle,process",
                   help="where the panel's trainer runs, alternated: thread (before), process "
                        "(now); idle: nothing trains (the machine's own lateness)")
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
    """When the trainer validated and wrote checkpoints (perf_counter intervals, any thread).

    perf_counter is CLOCK_MONOTONIC on Linux: one clock for every process, so
    the training process's intervals line up with the GUI's timer ticks.
    """

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


def record_training(out_file: str, target, *args):
    """Run ``target(*args)`` (the panel's training entry) with its batches and phases timed.

    Runs where the trainer runs (the training process, or the thread), and writes
    the times as JSON just before the end report leaves, so the GUI side can read
    them as soon as the run has ended.
    """
    import json

    from yolo_studio.gui.training import child

    timing, phases = Timing(), Phases()
    undo = phases.install()
    listener = child.PipeListener
    on_batch, on_end = listener.on_batch, listener.on_end

    def timed_batch(self, report):
        timing.mark(report)
        on_batch(self, report)

    def on_end_with_times(self, report):
        Path(out_file).write_text(json.dumps({"times": timing.times,
                                              "intervals": phases.intervals}))
        on_end(self, report)

    listener.on_batch, listener.on_end = timed_batch, on_end_with_times
    try:
        target(*args)
    finally:
        listener.on_batch, listener.on_end = on_batch, on_end
        undo()


def start_training_thread(target, args):
    """The panel as it was: the trainer on a thread of the window's process, 5 nicer."""
    from yolo_studio.gui.training import worker as worker_module

    def run():
        step = worker_module.TRAINING_NICE
        if step > 0 and sys.platform.startswith("linux"):
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + step))
        target(*args)

    thread = threading.Thread(target=run, name="training", daemon=True)
    thread.start()
    return thread


class Ticker:
    """A 10 ms timer on the GUI thread that notes how late each tick came: (time, ms)."""

    def __init__(self):
        from PySide6.QtCore import Qt, QTimer

        self.lateness: list[tuple[float, float]] = []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self._last = None

    def _tick(self):
        now = time.perf_counter()
        if self._last is not None:
            self.lateness.append((now, max(0.0, (now - self._last) * 1e3 - 10.0)))
        self._last = now

    def start(self):
        """Start ticking."""
        self.timer.start()

    def stop(self):
        """Stop ticking."""
        self.timer.stop()


class GcPauses:
    """How long Python's cyclic garbage collector held the GUI's process, per host (ms)."""

    def __init__(self):
        self.host: str | None = None        # None: between measured runs
        self.ms: dict[str, list[float]] = {}
        self._t0 = None

    def __call__(self, phase, info):
        if phase == "start":
            self._t0 = time.perf_counter()
        elif self._t0 is not None and self.host is not None:
            self.ms.setdefault(self.host, []).append((time.perf_counter() - self._t0) * 1e3)


GC_PAUSES = GcPauses()


def idle_run(app, project_root: Path, seconds: float) -> list[float]:
    """The same timer with the panel open and nothing training: the machine's own noise."""
    from PySide6.QtCore import QEventLoop, QTimer

    from yolo_studio.core.project import Project
    from yolo_studio.gui.context import AppContext
    from yolo_studio.gui.training.panel import TrainingPanel

    panel = TrainingPanel(AppContext(Project.open(project_root)))
    panel.resize(1400, 900)
    panel.show()
    GC_PAUSES.host = "idle"
    ticker = Ticker()
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    ticker.start()
    loop.exec()
    ticker.stop()
    GC_PAUSES.host = None
    panel.wait_for_workers()
    panel.close()
    return [v for _, v in ticker.lateness]


def gui_run(app, project_root: Path, cfg, host: str):
    """images/s inside the panel, the 10 ms timer's (time, lateness ms), batch times, phases,
    and the timer's lateness between Start and the first batch."""
    import functools
    import json

    from PySide6.QtCore import QEventLoop

    from yolo_studio.core.project import Project
    from yolo_studio.gui.context import AppContext
    from yolo_studio.gui.training import worker as worker_module
    from yolo_studio.gui.training.panel import TrainingPanel

    entry, launcher = worker_module.train_in_child, worker_module.start_training_process
    times_file = Path(tempfile.mkdtemp()) / "times.json"
    worker_module.train_in_child = functools.partial(record_training, str(times_file), entry)
    if host == "thread":
        worker_module.start_training_process = start_training_thread
    undo_slots = SLOT_TIMES.install()
    panel = TrainingPanel(AppContext(Project.open(project_root)))
    panel.resize(1400, 900)
    panel.show()
    panel.form.set_config(cfg)
    ticker = Ticker()
    loop = QEventLoop()
    ended_at = []
    panel.runEnded.connect(lambda r: (ended_at.append(time.perf_counter()), loop.quit()))
    GC_PAUSES.host = host
    ticker.start()
    panel.start()
    loop.exec()
    ticker.stop()
    GC_PAUSES.host = None
    lateness = ticker.lateness
    panel.wait_for_workers()
    worker_module.train_in_child, worker_module.start_training_process = entry, launcher
    undo_slots()
    if panel.message_bar.kind == "error":
        sys.exit(f"GUI run failed: {panel.message_bar.text()}")
    panel.close()
    recorded = json.loads(times_file.read_text())
    timing, phases = Timing(), Phases()
    timing.times = [tuple(t) for t in recorded["times"]]
    phases.intervals = {k: [tuple(i) for i in v] for k, v in recorded["intervals"].items()}
    # While batches flow: from the first batch to the run's end reaching the panel;
    # before that, from Start: the start-up (process, TensorFlow import, model build).
    first = timing.times[0][2]
    startup = [v for t, v in lateness if t < first]
    lateness = [(t, v) for t, v in lateness if first <= t <= ended_at[0]]
    return timing.images_per_sec(cfg.batch_size), lateness, timing, phases, startup


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


def describe(name: str, runs: list[list[float]]) -> str:
    """One line of lateness figures: all runs' ticks together, then the median run's p99 and max."""
    values = [v for run in runs for v in run]
    if not values:
        return f"{name}: no ticks"
    p99s = [percentile(run, 99) for run in runs if run]
    maxes = [max(run) for run in runs if run]
    return (f"{name} ({len(values)} ticks, {len(p99s)} runs): lateness p50 "
            f"{percentile(values, 50):.1f} ms, p99 {percentile(values, 99):.1f} ms, max "
            f"{max(values):.1f} ms; per run p99 {_listed(p99s)} (median "
            f"{statistics.median(p99s):.1f}), max {_listed(maxes)} (median "
            f"{statistics.median(maxes):.1f})")


def _listed(values: list[float]) -> str:
    return "/".join(f"{v:.0f}" for v in values)


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
              f"{os.getloadavg()[0]:.1f}; Qt platform {app.platformName()}; training "
              f"nice +{worker_module.TRAINING_NICE}; GIL switch interval "
              f"{sys.getswitchinterval() * 1e3:g} ms")
        # One discarded run pays the process's one-time costs (TF start-up, kernel
        # caches), then plain/GUI alternate in ABBA order so drift in machine load cancels.
        if not args.lateness_only:
            plain_run(root, TrainConfig.from_dict({**cfg.to_dict(), "epochs": 2}))
        hosts = [h.strip() for h in args.hosts.split(",") if h.strip()]
        flowing = None
        gc.callbacks.append(GC_PAUSES)
        plain, gui = [], {h: [] for h in hosts}
        late = {h: [] for h in hosts}
        startup = {h: [] for h in hosts}
        by_phase = {h: {name: [] for name in PHASES} for h in hosts}
        for i in range(args.repeats):
            if i % 2 == 0 and not args.lateness_only:
                plain.append(plain_run(root, cfg))
            for host in (hosts if i % 2 == 0 else hosts[::-1]):     # ABBA
                if host == "idle":      # as long as a training run's batches flowed
                    late[host].append(idle_run(app, root, flowing or 30.0))
                    continue
                g, lateness, timing, phases, before = gui_run(app, root, cfg, host)
                flowing = lateness[-1][0] - lateness[0][0] if lateness else 30.0
                gui[host].append(g)
                startup[host].append(before)
                late[host].append([v for _, v in lateness])
                for name, values in split_by_phase(lateness, timing, phases).items():
                    by_phase[host][name].append(values)
            if i % 2 == 1 and not args.lateness_only:
                plain.append(plain_run(root, cfg))
    for host in hosts:
        if host == "idle":
            print("nothing training (the panel open, the same timer, as long as a run):")
            print("  " + describe("10 ms GUI timer, idle", late[host]))
            continue
        print(f"trainer in a {host}:")
        print("  " + describe("10 ms GUI timer while training, all", late[host]))
        for name, values in by_phase[host].items():
            print("    " + describe(f"during {name}", values))
        print("  " + describe("from Start to the first batch", startup[host]))
    for host, values in GC_PAUSES.ms.items():
        print(f"garbage collector pauses in the GUI's process ({host}): {len(values)}, "
              f"p99 {percentile(values, 99):.1f} ms, max {max(values):.1f} ms")
    print("the panel's own work on the GUI thread, ms per call (p99 / max):")
    for name, values in SLOT_TIMES.ms.items():
        if values:
            print(f"  {name}: {len(values)} calls, p99 {percentile(values, 99):.1f}, "
                  f"max {max(values):.1f}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    for host in (h for h in hosts if h != "idle"):
        print(f"images/s in the GUI, trainer in a {host}: " + ", ".join(f"{v:.1f}" for v in gui[host]))
    if args.lateness_only:
        return 0
    print("images/s plain Trainer: " + ", ".join(f"{v:.1f}" for v in plain))
    for host in (h for h in hosts if h != "idle"):
        ratio = statistics.median(gui[host]) / statistics.median(plain)
        print(f"GUI ({host}) / plain throughput (medians of {args.repeats}): {ratio:.3f} "
              f"({(1 - ratio) * 100:+.1f}% cost)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
