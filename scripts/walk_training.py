"""Walk the Train tab as a person does, under a real X server, and save what the screen shows.

The app runs in its own process exactly as `yolo-studio [gui PROJECT]` starts it (no
arguments: the demo project, the form's defaults). This script clicks with
xdotool at the widgets' real on-screen positions, which the app process
writes to a small JSON file (a hook installed before the window is built;
it only reads widgets). The walk:

  01 the app just opened           02 the Train tab clicked
  03 Start clicked (at once)       04 ~30 s of training (from the first batch)
  05 ~2 min of training            06 after Stop
  07 the app restarted, the run picked in the Runs list (its history)

Each step's screen is saved as a PNG in the folder given on the command
line, and `walk.json` there records what each plot showed. The walk fails
(exit status 1) when a plot does not follow its data: the x range must cover
the epochs trained, and the curves' pixels must span the plot's width.

    python scripts/walk_training.py OUT_DIR              # full walk (about 4 minutes)
    python scripts/walk_training.py OUT_DIR --short      # tiny model, 64 px, under a minute

Needs Xvfb, xdotool and ImageMagick's `import` (or a running X server in $DISPLAY).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO))

from xdisplay import start_xvfb  # noqa: E402

# Settings of the --short walk, kept in the project file so the form shows them
# when the app opens (the same path as a project a person trained before).
SHORT_SETTINGS = {"model": "yolov3-tiny", "input_size": 64, "batch_size": 4, "epochs": 40,
                  "warmup_epochs": 1.0, "augment": False, "map_every": 2}
PLOTS = ("loss", "lr", "epochs")


# ----- the app's side ---------------------------------------------------------------------
def child(geometry_file: str, project: str | None) -> int:
    """Run the app as `yolo-studio [project]` does, writing its widgets' screen geometry."""
    from yolo_studio.cli import main
    from yolo_studio.gui import app as app_module

    make_app = app_module.make_app

    def make_app_with_dump():
        app = make_app()
        from PySide6.QtCore import QTimer
        timer = QTimer(app)
        timer.setInterval(200)
        timer.timeout.connect(lambda: _dump(geometry_file))
        timer.start()
        app._walk_timer = timer            # keep it alive with the app
        return app

    app_module.make_app = make_app_with_dump
    return main(["gui", project] if project else [])


def _dump(path: str) -> None:
    """Write where the walk's widgets are on screen and what the plots show (atomic)."""
    from PySide6.QtWidgets import QApplication, QMainWindow, QTabWidget

    from yolo_studio.gui.training.panel import TrainingPanel

    window = next((w for w in QApplication.topLevelWidgets()
                   if isinstance(w, QMainWindow) and w.isVisible()), None)
    if window is None:
        return
    panel = window.findChild(TrainingPanel)
    tabs = window.centralWidget()
    # How late this 200 ms timer ran: the longest the window did not answer, so far.
    now = time.monotonic()
    last = getattr(_dump, "last", None)
    _dump.last = now
    if last is not None:
        _dump.worst = max(getattr(_dump, "worst", 0.0), (now - last - 0.2) * 1e3)
    out = {"t": time.time(), "window": _rect(window), "worst_freeze_ms": getattr(_dump, "worst", 0.0)}
    if isinstance(tabs, QTabWidget):
        bar = tabs.tabBar()
        for i in range(tabs.count()):
            r = bar.tabRect(i)
            g = bar.mapToGlobal(r.topLeft())
            out[f"tab:{tabs.tabText(i)}"] = [g.x(), g.y(), r.width(), r.height()]
        out["current_tab"] = tabs.tabText(tabs.currentIndex())
    if panel is not None and panel.isVisible():
        for name in ("start_button", "stop_button", "resume_button", "retrain_button", "progress"):
            widget = getattr(panel, name)
            out[name] = _rect(widget)
            out[name + "_enabled"] = widget.isEnabled()
        out["start_button_text"] = panel.start_button.text()
        out["start_button_tip"] = panel.start_button.toolTip()
        out["progress_text"] = panel.progress.format()
        out["running"] = panel.is_running()
        out["status"] = window.statusBar().currentMessage()
        out["message"] = panel.message_bar.text()
        view = panel.runs_view
        if view.rowCount():
            r = view.visualRect(view.model().index(0, 0))
            g = view.viewport().mapToGlobal(r.topLeft())
            out["run_row0"] = [g.x(), g.y(), r.width(), r.height()]
        out["plots"] = {name: _plot_state(getattr(panel.plots, name)) for name in PLOTS}
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f)
    os.replace(tmp, path)


def _rect(widget) -> list[int]:
    g = widget.mapToGlobal(widget.rect().topLeft())
    return [g.x(), g.y(), widget.width(), widget.height()]


def _plot_state(plot) -> dict:
    """A plot's data area on screen, its view range, and the x extent of its data."""
    item = plot.getPlotItem()
    scene_rect = item.vb.sceneBoundingRect()
    top_left = plot.mapToGlobal(plot.mapFromScene(scene_rect.topLeft()))
    xs = [c.xData for c in item.listDataItems() if c.xData is not None and len(c.xData)]
    (x0, x1), (y0, y1) = item.vb.viewRange()
    return {"area": [top_left.x(), top_left.y(), int(scene_rect.width()), int(scene_rect.height())],
            "x_range": [x0, x1], "y_range": [y0, y1],
            "data_x": [min(float(x.min()) for x in xs), max(float(x.max()) for x in xs)] if xs else None}


# ----- the person's side ------------------------------------------------------------------
class Walk:
    """Clicks, waits and screenshots against the app process."""

    def __init__(self, out: Path, geometry_file: Path, log):
        self.out, self.geometry_file, self.log = out, geometry_file, log
        self.shots: list[dict] = []

    def state(self) -> dict:
        try:
            return json.loads(self.geometry_file.read_text())
        except (OSError, ValueError):
            return {}

    def wait_for(self, what: str, test, timeout: float) -> dict:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            s = self.state()
            if s and test(s):
                return s
            time.sleep(0.2)
        raise TimeoutError(f"waited {timeout:.0f} s for {what}; last state: {self.state()}")

    def click(self, rect, what: str) -> None:
        x, y = rect[0] + rect[2] // 2, rect[1] + rect[3] // 2
        self.log(f"click {what} at ({x}, {y})")
        subprocess.run(["xdotool", "mousemove", str(x), str(y), "click", "1"], check=True)

    def key(self, keys: str) -> None:
        subprocess.run(["xdotool", "key", keys], check=True)

    def shot(self, name: str, note: str = "") -> dict:
        time.sleep(0.6)             # one redraw tick (5 Hz) and the paint after it
        path = self.out / f"{name}.png"
        subprocess.run(["import", "-window", "root", str(path)], check=True)
        s = self.state()
        entry = {"png": path.name, "note": note, "progress": s.get("progress_text"),
                 "window": s.get("window"),
                 "worst_freeze_ms": round(s.get("worst_freeze_ms", 0.0)), "plots": s.get("plots", {})}
        self.shots.append(entry)
        self.log(f"saved {path.name}: {s.get('progress_text')!r}")
        return entry


def curve_columns(png: Path, area) -> dict:
    """Which columns of a plot's data area hold coloured (curve) pixels, as fractions of its width."""
    import cv2
    import numpy as np

    image = cv2.imread(str(png))
    x, y, w, h = area
    crop = image[max(y, 0) + 2:y + h - 2, max(x, 0) + 2:x + w - 2].astype(np.int16)
    # Curves are coloured or dark; the background is white and the grid light grey.
    coloured = (crop.max(axis=2) - crop.min(axis=2)) > 40
    dark = crop.max(axis=2) < 90
    cols = np.flatnonzero((coloured | dark).sum(axis=0) >= 1)
    width = max(crop.shape[1], 1)
    if not len(cols):
        return {"first": None, "last": None, "filled": 0.0}
    return {"first": cols[0] / width, "last": cols[-1] / width, "filled": len(cols) / width}


def judge(out: Path, shots: list[dict]) -> list[str]:
    """What is wrong in the training shots: ranges that miss data, curves that do not span."""
    problems = []
    for shot in shots:
        if not shot.get("check"):
            continue
        for name in ("loss", "lr"):
            p = shot["plots"].get(name) or {}
            if not p.get("data_x"):
                if shot["check"] != "if-data":   # a history with no finished epoch is empty
                    problems.append(f"{shot['png']}: the {name} plot has no data")
                continue
            lo, hi = p["data_x"]
            x0, x1 = p["x_range"]
            span = max(hi - lo, 1e-9)
            if x0 > lo + 0.02 * span or x1 < hi - 0.02 * span:
                problems.append(f"{shot['png']}: {name} plot shows x {x0:.2f}..{x1:.2f} "
                                f"but its data runs {lo:.2f}..{hi:.2f}")
            if (x1 - x0) > 3 * span + 1.0:
                problems.append(f"{shot['png']}: {name} plot shows x {x0:.2f}..{x1:.2f}, "
                                f"far wider than its data {lo:.2f}..{hi:.2f}")
            cols = curve_columns(out / shot["png"], p["area"])
            shot.setdefault("pixels", {})[name] = cols
            if hi - lo < 1e-9:       # one batch so far: a dot in the middle, nothing to span
                if cols["first"] is None:
                    problems.append(f"{shot['png']}: the {name} plot's one point is not drawn")
                continue
            if cols["first"] is None or cols["first"] > 0.1 or cols["last"] < 0.85:
                problems.append(f"{shot['png']}: {name} curves' pixels span "
                                f"{cols['first']}..{cols['last']} of the plot's width")
    return problems


def save_window(out: Path, shot_name: str, target: Path) -> None:
    """The app window's part of a screenshot (the screen is larger than the window)."""
    import cv2

    shot = next(s for s in json.loads((out / "walk.json").read_text())["shots"]
                if s["png"] == shot_name)
    x, y, w, h = shot["window"]
    image = cv2.imread(str(out / shot_name))
    target.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(target), image[max(y, 0):y + h, max(x, 0):x + w])


def launch(geometry_file: Path, env: dict, project: str | None, log_file) -> subprocess.Popen:
    """Start the app process (this script with --child)."""
    geometry_file.unlink(missing_ok=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(geometry_file)]
    if project:
        cmd.append(project)
    return subprocess.Popen(cmd, env=env, stdout=log_file, stderr=subprocess.STDOUT)


def walk(out: Path, short: bool, shots_at: tuple[float, float], log, prelabelled: int = 0) -> list[str]:
    """The whole walk; returns the problems found (empty when the window told the truth)."""
    scratch = Path(tempfile.mkdtemp(prefix="walk-training-"))
    env = {**os.environ, "YOLO_STUDIO_HOME": str(scratch / "home"),
           "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": os.pathsep.join(
               [str(REPO)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])}
    env.pop("QT_QPA_PLATFORM", None)          # a real X server, not offscreen
    project = None
    if short:
        from yolo_studio.core.demo import generate_demo_project
        from yolo_studio.core.project import Project
        project = str(generate_demo_project(scratch / "demo", n_images=32, seed=5,
                                            min_size=96, max_size=160))
        p = Project.open(project)
        p.train_settings = dict(SHORT_SETTINGS)
        p.save()
        # As after "Pre-label all" on images nobody has looked at since: the run should say
        # it leaves them out (they are the model's guesses, not ground truth).
        for path in [q for q in p.image_paths() if p.load_annotation(q).boxes][:prelabelled]:
            ann = p.load_annotation(path)
            ann.boxes = [b.moved(predicted=True, score=0.9) for b in ann.boxes]
            ann.verified = False          # the demo's images are verified; pre-labels are not
            p.save_annotation(ann)
    geometry_file = scratch / "geometry.json"
    app_log = open(out / "app.log", "w")
    w = Walk(out, geometry_file, log)
    app = launch(geometry_file, env, project, app_log)
    try:
        w.wait_for("the main window", lambda s: "tab:Train" in s, 600 if not short else 180)
        time.sleep(2.0)
        w.shot("01-app-open", "the app as it opens")
        w.click(w.state()["tab:Train"], "the Train tab")
        s = w.wait_for("the Train tab", lambda s: s.get("current_tab") == "Train"
                       and "start_button" in s, 30)
        w.shot("02-train-tab", "the Train tab, defaults")
        clicked = time.monotonic()
        w.click(s["start_button"], "Start")
        # A person sees an answer within a second: training, or Start saying it is waiting.
        s = w.wait_for("Start to answer", lambda s: s.get("running") or s.get("message")
                       or s.get("start_button_text") != "Start"
                       or s.get("progress_text") not in ("Not training", None), 10)
        log(f"Start answered after {time.monotonic() - clicked:.1f} s: "
            f"{s.get('start_button_text')!r}, {s.get('progress_text')!r}, {s.get('message')!r}")
        w.shot("03-start-clicked", "just after the click on Start")
        w.wait_for("training to run", lambda s: s.get("running"), 120)
        # Shots are timed from the first batch on the plot: before it, TensorFlow builds
        # and traces the model (a minute on a busy 2-core machine, seconds elsewhere).
        w.wait_for("the first batch on the plots",
                   lambda s: (s["plots"]["loss"].get("data_x") or [0, 0])[1] > 0, 900)
        started = time.monotonic()
        log(f"first batch drawn {started - clicked:.0f} s after the click on Start")
        for name, at in zip(("04-training-early", "05-training-later"), shots_at):
            time.sleep(max(0.0, started + at - time.monotonic()))
            entry = w.shot(name, f"{at:.0f} s after the first batch")
            entry["check"] = True
        s = w.state()
        w.click(s["stop_button"], "Stop")
        w.wait_for("the run to stop", lambda s: not s.get("running") and s.get("start_button_enabled"), 300)
        entry = w.shot("06-after-stop", "after Stop")
        entry["check"] = True
        w.key("ctrl+q")
        app.wait(60)
        # A restart: the run's history is what the plots show once it is picked.
        app = launch(geometry_file, env, project, app_log)
        w.wait_for("the main window again", lambda s: "tab:Train" in s, 300)
        time.sleep(1.0)
        w.click(w.state()["tab:Train"], "the Train tab")
        s = w.wait_for("the runs list", lambda s: "run_row0" in s, 60)
        w.click(s["run_row0"], "the run in the Runs list")
        time.sleep(1.0)
        entry = w.shot("07-restart-history", "after a restart, the run picked in the Runs list")
        entry["check"] = "if-data"
        w.key("ctrl+q")
        app.wait(60)
    finally:
        if app.poll() is None:
            app.terminate()
            app.wait(30)
        app_log.close()
        shutil.rmtree(scratch, ignore_errors=True)
    problems = judge(out, w.shots)
    (out / "walk.json").write_text(json.dumps({"shots": w.shots, "problems": problems}, indent=1))
    return problems


def main(argv=None) -> int:
    """Parse the arguments, start an X server if needed, walk, report."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", nargs="?", help="folder for the PNGs and walk.json")
    p.add_argument("--short", action="store_true", help="tiny model at 64 px on 32 images")
    p.add_argument("--display", default=":97", help="Xvfb display to start if $DISPLAY is unset")
    p.add_argument("--size", default="1600x1000", help="screen size of that Xvfb")
    p.add_argument("--shots-at", default=None,
                   help="seconds after training starts for the two training shots "
                        "(default 30,120; --short: 15,30)")
    p.add_argument("--readme", metavar="PNG", default=None,
                   help="also save the window of the ~2 min shot here "
                        "(docs/screenshots/training.png for the README)")
    p.add_argument("--prelabelled", type=int, default=0, metavar="N",
                   help="with --short: N images hold only pre-labels nobody accepted (the log "
                        "should say they are left out)")
    p.add_argument("--child", metavar="GEOMETRY_FILE", help=argparse.SUPPRESS)
    p.add_argument("project", nargs="?", help=argparse.SUPPRESS)
    args, rest = p.parse_known_args(argv)
    if args.child:
        return child(args.child, args.out)
    if not args.out:
        p.error("give the folder for the screenshots")
    for tool in ("xdotool", "import"):
        if not shutil.which(tool):
            sys.exit(f"walk_training: {tool} not found; install xdotool and imagemagick")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    xvfb = start_xvfb(args.display, args.size, who="walk_training")
    at = args.shots_at or ("15,30" if args.short else "30,120")
    shots_at = tuple(float(v) for v in at.split(","))

    def log(text):
        print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)

    try:
        problems = walk(out, args.short, shots_at, log, args.prelabelled)
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(10)
    for problem in problems:
        print("PROBLEM:", problem)
    if args.readme and not problems:
        save_window(out, "05-training-later.png", Path(args.readme))
        print(f"saved {args.readme}")
    print(f"{'FAILED' if problems else 'ok'}: screenshots in {out}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
