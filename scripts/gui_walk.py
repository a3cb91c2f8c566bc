"""A scripted walk through the app as a new user, with a real mouse and keyboard (issue 18).

Runs the real app under its own Xvfb, drives it with xdotool at coordinates the
app itself reports (YOLO_STUDIO_WIDGET_DUMP, see yolo_studio/gui/widget_dump.py),
takes a PNG after each action with ImageMagick's ``import``, and reads the label
files on disk after each edit. It repeats the steps of the GUI walk review
(shared reviews, gui-walk-2026-12-01) and the fixes of issue 18.

    python scripts/gui_walk.py --out walk-out            # the whole walk (builds two tiny models)
    python scripts/gui_walk.py --short --out walk-out    # the quick part CI runs (no TensorFlow)
    python scripts/gui_walk.py --retrain-offer --out walk-out   # labels beside pre-labels, the offer

Writes ``walk.md`` (one row per check) and the PNGs into --out; exits 1 if a check failed.
Needs Xvfb, xdotool and ImageMagick's import on PATH.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from yolo_studio.core.formats.voc import read_voc  # noqa: E402

TOOLS = ("Xvfb", "xdotool", "import")


class WalkError(Exception):
    """A step could not go on (a widget never appeared)."""


class Walk:
    """The app under Xvfb, and the means to click, type, look and check."""

    def __init__(self, out: Path, display: str | None):
        self.out = out
        self.home = out / "home"
        self.dump_file = out / "widgets.json"
        self.rows: list[tuple[str, str, bool, str]] = []
        self.step = ""
        self.shots = 0
        self.app = None
        self.xvfb, self.display = self._start_xvfb(display)
        self.env = dict(os.environ, DISPLAY=self.display, QT_QPA_PLATFORM="xcb",
                        YOLO_STUDIO_HOME=str(self.home), YOLO_STUDIO_WIDGET_DUMP=str(self.dump_file),
                        PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                        TF_CPP_MIN_LOG_LEVEL="2")

    # -- processes --------------------------------------------------------------------------
    def _start_xvfb(self, display):
        if display is None:
            # Xvfb picks a free display and writes its number to the pipe.
            read_fd, write_fd = os.pipe()
            proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0",
                                     "1600x1000x24", "-nolisten", "tcp"], pass_fds=(write_fd,),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            os.close(write_fd)
            with os.fdopen(read_fd) as f:
                number = f.readline().strip()
            if not number:
                raise WalkError("Xvfb did not start")
            return proc, f":{number}"
        proc = subprocess.Popen(["Xvfb", display, "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        if proc.poll() is not None:
            raise WalkError(f"Xvfb {display} did not start (in use?)")
        return proc, display

    def start_app(self, project: Path | None = None) -> None:
        """Start the app (on ``project``, else on what it opens by itself) and wait for its window."""
        self.dump_file.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "yolo_studio", "gui"] + ([str(project)] if project else [])
        log = open(self.out / "app.log", "a")
        self.app = subprocess.Popen(cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                    cwd=str(self.out))
        self.wait(lambda d: d["state"]["image"] and "image" in d["state"]["location"], 90,
                  "the main window with an image")
        self.settle()

    def quit_app(self) -> bool:
        """Ctrl+Q; True if the app ended by itself."""
        self.key("ctrl+q")
        try:
            self.app.wait(30)
            return True
        except subprocess.TimeoutExpired:
            self.app.kill()
            self.app.wait()
            return False

    def close(self) -> None:
        if self.app is not None and self.app.poll() is None:
            self.app.kill()
            self.app.wait()
        if self.xvfb is not None:
            self.xvfb.terminate()
            self.xvfb.wait()

    # -- looking ----------------------------------------------------------------------------
    def dump(self) -> dict:
        for _ in range(50):
            try:
                return json.loads(self.dump_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                time.sleep(0.1)
        raise WalkError("the app writes no widget dump (did it start?)")

    def wait(self, pred, timeout: float, what: str):
        """Poll the dump until ``pred(dump)`` is truthy; its value, or WalkError naming ``what``."""
        end = time.monotonic() + timeout
        while True:
            if self.app is not None and self.app.poll() is not None:
                raise WalkError(f"the app ended (code {self.app.returncode}) waiting for {what}")
            try:
                d = self.dump()
                value = pred(d)
            except (KeyError, IndexError, StopIteration, TypeError, WalkError):
                value = None
            if value:
                return value
            if time.monotonic() > end:
                raise WalkError(f"timed out waiting for {what}")
            time.sleep(0.15)

    def settle(self, seconds: float = 0.4) -> None:
        time.sleep(seconds)

    def find(self, d: dict, *, name=None, cls=None, text=None, window=None, prefix=False) -> dict:
        """The first visible widget matching all the given fields (text ignores '&')."""
        for w in d["widgets"]:
            if name is not None and w["name"] != name:
                continue
            if cls is not None and w["cls"] != cls:
                continue
            t = w["text"].replace("&", "")
            if text is not None and not (t.startswith(text) if prefix else t == text):
                continue
            if window is not None and w["window"] != window:
                continue
            return w
        raise StopIteration(f"no widget {name or cls} {text or ''} {window or ''}")

    def widget(self, timeout: float = 15, **match) -> dict:
        """Wait for a widget matching ``match`` and return it."""
        return self.wait(lambda d: self.find(d, **match), timeout, f"widget {match}")

    def label_text(self, pattern: str) -> str:
        """The text of a QLabel matching the regular expression ``pattern`` ('' if none)."""
        for w in self.dump()["widgets"]:
            if w["cls"] == "QLabel" and re.search(pattern, w["text"]):
                return w["text"]
        return ""

    def shot(self, name: str) -> Path:
        self.shots += 1
        path = self.out / f"{self.shots:02d}-{name}.png"
        subprocess.run(["import", "-display", self.display, "-window", "root", str(path)],
                       check=False, timeout=30)
        return path

    # -- acting -----------------------------------------------------------------------------
    def xdo(self, *args) -> None:
        subprocess.run(["xdotool", *map(str, args)], env=self.env, check=True, timeout=30)

    def click(self, target, button: int = 1, double: bool = False, dx=None, dy=None) -> None:
        """Click the middle of widget/rect ``target`` (or a point (x, y)), or at (dx, dy) inside it."""
        if isinstance(target, dict):
            x = target["x"] + (target["w"] // 2 if dx is None else dx)
            y = target["y"] + (target["h"] // 2 if dy is None else dy)
        else:
            x, y = target
        self.xdo("mousemove", x, y)
        time.sleep(0.05)
        self.xdo("click", "--repeat", 2 if double else 1, "--delay", 80, button)
        time.sleep(0.25)

    def drag(self, a, b) -> None:
        self.xdo("mousemove", *a)
        self.xdo("mousedown", 1)
        for t in (0.33, 0.66, 1.0):
            self.xdo("mousemove", int(a[0] + (b[0] - a[0]) * t), int(a[1] + (b[1] - a[1]) * t))
            time.sleep(0.05)
        self.xdo("mouseup", 1)
        time.sleep(0.3)

    def key(self, *keys) -> None:
        for k in keys:
            self.xdo("key", "--delay", 60, k)
        time.sleep(0.25)

    def type(self, text: str) -> None:
        self.xdo("type", "--delay", 25, text)
        time.sleep(0.2)

    def image_point(self, x: float, y: float) -> tuple[int, int]:
        """Screen position of image pixel (x, y) on the labeller's canvas."""
        c = self.dump()["state"]["canvas"]
        return round(c["x0"] + x * c["scale"]), round(c["y0"] + y * c["scale"])

    # -- recording --------------------------------------------------------------------------
    def check(self, ok, what: str, detail: str = "") -> bool:
        ok = bool(ok)
        self.rows.append((self.step, what, ok, detail))
        print(f"[{'ok' if ok else 'FAIL'}] {self.step}: {what} {detail}", flush=True)
        return ok

    def report(self) -> bool:
        lines = ["# GUI walk", "", "| step | check | result | detail |", "|---|---|---|---|"]
        for step, what, ok, detail in self.rows:
            lines.append(f"| {step} | {what} | {'OK' if ok else '**FAIL**'} | {detail} |")
        (self.out / "walk.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return all(ok for _s, _w, ok, _d in self.rows)


# -- the project ------------------------------------------------------------------------------
def make_project(out: Path) -> Path:
    """A small demo project plus what the review added: unlabelled images and a broken one."""
    from yolo_studio.core.demo import generate_demo_project

    root = generate_demo_project(out / "demo", n_images=20, seed=3, min_size=240, max_size=360)
    images = sorted((root / "images").glob("*.jpg"))
    (root / "images" / "zz_broken.jpg").write_bytes(os.urandom(3000))
    for xml in (images[1].with_suffix(".xml"), images[2].with_suffix(".xml")):
        xml.unlink()   # two images with no labels yet
    return root


def label_file(image: str) -> Path:
    return Path(image).with_suffix(".xml")


def classes_of(root: Path) -> list[str]:
    return json.loads((root / "yolo_studio.json").read_text(encoding="utf-8"))["classes"]


def current_xml(w: Walk):
    return read_voc(label_file(w.dump()["state"]["image"]))


def wait_xml(w: Walk, image: str, pred, what: str, timeout: float = 6.0):
    """Wait until the label file of ``image`` satisfies ``pred``; True if it did."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if pred(read_voc(label_file(image))):
                return True
        except Exception:  # noqa: BLE001 - the file may be mid-replace or absent yet
            pass
        time.sleep(0.1)
    return False


# -- steps ------------------------------------------------------------------------------------
def step_start(w: Walk, root: Path) -> None:
    w.step = "start"
    w.start_app(root)
    d = w.dump()
    w.shot("start")
    w.check("image 1 of 21" in d["state"]["location"], "where-am-I field", d["state"]["location"])
    w.check(d["state"]["image"] in d["state"]["title"], "file path in the title", d["state"]["title"])
    w.click(w.find(d, name="canvas"))   # no window manager: give the window the keyboard


def step_classes(w: Walk, root: Path) -> None:
    w.step = "1 classes +/pencil"
    w.click(w.widget(name="class_add"))
    edit = w.widget(cls="QLineEdit", window="Add class", timeout=8)
    w.shot("add-class-asks")
    w.click(edit)
    w.type("hexagon")
    w.click(w.widget(cls="QPushButton", text="OK", window="Add class"))
    w.settle()
    w.check("hexagon" in classes_of(root), "+ asks for a name and adds the class", str(classes_of(root)))
    w.click(w.widget(name="class_rename"))
    edit = w.widget(cls="QLineEdit", window="Rename class", timeout=8)
    w.click(edit)
    w.key("ctrl+a")
    w.type("hexa")
    w.click(w.widget(cls="QPushButton", text="OK", window="Rename class"))
    w.click(w.widget(cls="QPushButton", text="Yes", window="Rename class"))
    w.settle()
    w.shot("renamed-class")
    w.check("hexa" in classes_of(root) and "hexagon" not in classes_of(root),
            "pencil asks for a name and renames", str(classes_of(root)))


def answer_prompt(w: Walk, name: str) -> None:
    title = w.wait(lambda d: next(x["title"] for x in d["windows"]
                                  if x["title"].startswith("Class of")), 8, "the class prompt")
    edit = w.widget(cls="QLineEdit", window=title)
    w.shot("class-prompt")
    w.click(edit)
    w.key("ctrl+a")
    w.type(name)
    w.click(w.widget(cls="QPushButton", text="OK", window=title))


def step_draw(w: Walk, root: Path) -> None:
    w.step = "1 label"
    d = w.dump()
    image = d["state"]["image"]
    n = len(d["state"]["boxes"])
    w.click(w.find(d, name="canvas"))
    w.key("w")
    w.drag(w.image_point(30, 40), w.image_point(130, 150))
    answer_prompt(w, "circle")
    ok = wait_xml(w, image, lambda a: len(a.boxes) == n + 1 and a.boxes[-1].label == "circle"
                  and abs(a.boxes[-1].x1 - 30) <= 2 and abs(a.boxes[-1].y2 - 150) <= 2, "new box")
    w.shot("drawn")
    w.check(ok, "W + drag + prompt: the box is on disk with its class", str(current_xml(w).boxes[-1:]))
    # No window manager: after a dialog the keyboard comes back with a click, as for the review.
    w.click(w.find(w.dump(), name="canvas"), dx=5, dy=5)
    w.key("w")
    w.drag(w.image_point(150, 40), w.image_point(200, 100))
    answer_prompt(w, "star")   # a new class, typed in the prompt as in LabelImg
    ok = wait_xml(w, image, lambda a: a.boxes[-1].label == "star", "typed class")
    w.check(ok and "star" in classes_of(root), "a new class typed in the prompt", str(classes_of(root)))

    w.step = "1 verify / edit"
    star = current_xml(w).boxes[-1]
    w.click(w.image_point((star.x1 + star.x2) / 2, (star.y1 + star.y2) / 2))   # select it
    w.key("space")
    w.check(wait_xml(w, image, lambda a: a.verified, "verified"), "Space verifies (on disk)")
    w.check(w.wait(lambda d: d["state"]["location"].endswith("verified"), 5, "location verified"),
            "the where-am-I field says verified")
    before = current_xml(w).boxes[-1]
    w.key("Right")
    ok = wait_xml(w, image, lambda a: not a.verified and a.boxes[-1].x1 == before.x1 + 1, "unverified")
    w.shot("edit-unverifies")
    w.check(ok, "an edit (Right nudge) takes 'verified' away", str(current_xml(w).verified))

    w.step = "1 LabelImg habits"
    scale = w.dump()["state"]["canvas"]["scale"]
    w.key("ctrl+plus")
    w.check(w.wait(lambda d: d["state"]["canvas"]["scale"] > scale * 1.1, 5, "zoom in"), "Ctrl++ zooms in")
    w.key("ctrl+minus")
    w.check(w.wait(lambda d: abs(d["state"]["canvas"]["scale"] - scale) < 1e-3 * scale, 5, "zoom out"),
            "Ctrl+- zooms out")
    box = current_xml(w).boxes[0]
    w.click(w.image_point((box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2), double=True)
    answer_prompt(w, "square")
    w.click(w.image_point((box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2))   # keyboard back, box selected
    w.check(wait_xml(w, image, lambda a: a.boxes[0].label == "square", "relabel"),
            "double-click a box changes its class", current_xml(w).boxes[0].label)
    w.click(w.widget(name="difficult"), dx=8)
    w.check(wait_xml(w, image, lambda a: a.boxes[0].difficult, "difficult"),
            "Difficult checkbox sets <difficult>1")
    w.shot("habits")


def step_disk(w: Walk, root: Path) -> None:
    w.step = "1 outside edit"
    image = w.dump()["state"]["image"]
    xml = label_file(image)
    time.sleep(1.0)   # the last autosave is done
    text = xml.read_text(encoding="utf-8")
    xml.write_text(text.replace("<name>square</name>", "<name>triangle</name>", 1), encoding="utf-8")
    ok = w.wait(lambda d: d["state"]["boxes"][0][0] == "triangle", 8, "reload of the outside edit")
    w.shot("outside-edit-reloaded")
    w.check(ok, "an outside edit of the open image is reloaded (nothing pending)")
    w.click(w.find(w.dump(), name="canvas"), dx=5, dy=5)
    w.key("Down")  # nudge nothing (no selection): the file must keep the outside edit
    time.sleep(1.0)
    w.check(read_voc(xml).boxes[0].label == "triangle", "the outside edit is still on disk")

    w.step = "2 list"
    folder = root / "images"
    shutil.copy(sorted(folder.glob("*.jpg"))[4], folder / "new_0000.jpg")
    ok = w.wait(lambda d: any(re.search(r"^22 images", x["text"]) for x in d["widgets"]), 10,
                "the new image in the list")
    w.check(ok, "an image copied into the folder appears by itself", w.label_text("images"))
    shutil.copy(sorted(folder.glob("*.jpg"))[4], folder / "new_0001.jpg")
    w.key("F5")
    ok = w.wait(lambda d: any(re.search(r"^23 images", x["text"]) for x in d["widgets"]), 10, "F5")
    w.check(ok, "F5 / the watcher: 23 images", w.label_text("images"))
    w.click(w.widget(name="stateFilter"))
    w.key("End", "Return")
    ok = w.wait(lambda d: any(re.search(r"^1 of 23 images shown", x["text"]) for x in d["widgets"]),
                10, "Cannot be read filter")
    w.shot("cannot-be-read")
    w.check(ok, "'Cannot be read' counts the broken image without opening it",
            w.label_text("images"))
    w.click(w.widget(name="stateFilter"))
    w.key("Home", "Return")
    w.wait(lambda d: any(re.search(r"^23 images", x["text"]) for x in d["widgets"]), 10, "all images")


def step_preview_buttons(w: Walk, root: Path, video: Path | None = None) -> None:
    w.step = "4 preview buttons"
    d = w.dump()
    bar = w.find(d, cls="QTabBar")
    w.click(next(t for t in bar["tabs"] if t["text"] == "Preview"))
    start = w.widget(name="previewStart")
    snap = w.widget(name="previewSnapshot")
    w.click(w.widget(name="sourceKind"))
    w.key("Home", "Down", "Return")   # Video file
    path_field = w.widget(name="videoPath")
    w.click(path_field)
    w.key("ctrl+a")
    w.type(str(root / ("a-long-folder-name-" * 5) / "missing.avi"))
    w.click(start)
    # With no model yet the message says to train first; with one, the video is missing.
    ok = w.wait(lambda d: len(d["state"]["preview"]["message"]) > 60, 60, "a long message")
    w.shot("preview-long-message")
    d = w.dump()
    start2, snap2 = w.find(d, name="previewStart"), w.find(d, name="previewSnapshot")
    w.check(ok, "a long error message is shown", d["state"]["preview"]["message"][:60])
    w.check((start2["x"], start2["y"], snap2["x"], snap2["y"]) == (start["x"], start["y"], snap["x"], snap["y"]),
            "Start and Snapshot did not move", f"{start['y']}->{start2['y']}, {snap['y']}->{snap2['y']}")
    w.click(snap2)
    w.check(not list((root / "images").glob("snapshot-*")), "no snapshot written without a frame")
    if video is not None:
        w.click(path_field)
        w.key("ctrl+a")
        w.type(str(video))


def step_preview_models(w: Walk, root: Path, shapes: Path, pets: Path) -> None:
    w.step = "4 preview model switch"
    loop = w.widget(name="loop")
    if not loop.get("checked"):
        w.click(loop, dx=8)
    browse_model(w, shapes)
    w.click(w.widget(name="previewStart"))
    w.wait(lambda d: d["state"]["preview"]["frames"] > 3 and d["state"]["preview"]["classes"], 90,
           "frames of the first model")
    w.shot("preview-running")
    before = w.find(w.dump(), name="previewStart")
    browse_model(w, pets)   # while it runs
    ok = w.wait(lambda d: d["state"]["preview"]["classes"] == ["cat", "dog", "owl"]
                and d["state"]["preview"]["frames"] > 2, 60, "detections of the new model")
    w.shot("preview-switched")
    w.check(ok, "a model chosen while running replaces the old one")
    w.click(w.find(w.dump(), name="previewSnapshot"))
    msg = w.wait(lambda d: "Saved" in d["state"]["preview"]["message"] and d["state"]["preview"]["message"], 10,
                 "snapshot message")
    snaps = sorted((root / "images").glob("snapshot-*.jpg"))
    xml = snaps[-1].with_suffix(".xml") if snaps else None
    w.check(snaps and (not xml.exists() or read_voc(xml).boxes == []) and "left out classes" in msg,
            "the snapshot carries the new model's boxes (its classes are not the project's)", msg[:80])
    after = w.find(w.dump(), name="previewStart")
    w.check((after["x"], after["y"]) == (before["x"], before["y"]), "Stop did not move after the message")
    w.shot("preview-snapshot")
    bar = w.find(w.dump(), cls="QTabBar")
    w.click(next(t for t in bar["tabs"] if t["text"] == "Label"))
    time.sleep(0.8)
    frames = w.dump()["state"]["preview"]["frames"]
    time.sleep(1.5)
    p = w.dump()["state"]["preview"]
    w.check(p["paused"] and p["frames"] == frames and p["running"],
            "the preview idles on another tab", f"frames {frames} -> {p['frames']}")
    w.click(next(t for t in bar["tabs"] if t["text"] == "Preview"))
    w.click(w.widget(name="previewStart", text="Stop"))


def browse_model(w: Walk, path: Path) -> None:
    w.click(w.widget(name="modelBrowse"))
    edit = w.widget(name="fileNameEdit", timeout=10)
    w.click(edit)
    w.key("ctrl+a")
    w.type(str(path))
    w.key("Return")
    time.sleep(0.5)


def step_prelabel(w: Walk, root: Path) -> None:
    w.step = "5 pre-label"
    bar = w.find(w.dump(), cls="QTabBar")
    w.click(next(t for t in bar["tabs"] if t["text"] == "Label"))
    w.click(w.widget(cls="QToolButton", text="Pre-label", prefix=True))
    run = w.widget(cls="QPushButton", text="Pre-label", window="Pre-label with model", timeout=10)
    score = w.widget(cls="QSlider", window="Pre-label with model")   # the first: Score
    w.click(score)
    w.key("Home")   # 0.01: random weights score about 0.25, so every detection counts
    w.shot("prelabel-dialog")
    w.click(run)
    summary = w.wait(lambda d: next(x["text"] for x in d["widgets"] if x["window"] == "Pre-label with model"
                                    and x["cls"] == "QLabel" and x["text"].startswith("Done")), 120,
                     "the pre-label result")
    w.shot("prelabel-done")
    w.check("left out classes not in the project" in summary, "pre-label names the classes left out",
            summary[:120])
    w.click(w.find(w.dump(), cls="QPushButton", text="Close", window="Pre-label with model"))


def step_anchors(w: Walk) -> None:
    w.step = "3 anchors"
    bar = w.find(w.dump(), cls="QTabBar")
    w.click(next(t for t in bar["tabs"] if t["text"] == "Anchors"))
    points = w.wait(lambda d: d["state"]["anchors"]["points"], 60, "the anchors scatter")
    p = points[0]
    w.click((p["x"], p["y"]))
    w.wait(lambda d: d["state"]["anchors"]["selected"] == p["index"], 5, "the point selected")
    w.shot("anchors-click")
    w.check(w.dump()["state"]["anchors"]["thumbnail"], "a click shows the box in its image")
    w.check(w.dump()["state"]["anchors"]["points"][0]["y"] == p["y"], "the point did not move")
    w.click((p["x"], p["y"]), double=True)
    ok = w.wait(lambda d: d["state"]["tab"] == 0 and d["state"]["image"] == p["image"]
                and d["state"]["selected"] == [p["box"]], 10, "the labeller on the clicked box")
    w.shot("anchors-double-click")
    w.check(ok, "double-click opens the image with the box selected")


def step_restart(w: Walk, root: Path, tab: str) -> None:
    w.step = "6 restart"
    d = w.dump()
    bar = w.find(d, cls="QTabBar")
    w.click(next(t for t in bar["tabs"] if t["text"] == "Label"))
    w.click(w.widget(name="imageSearch"))
    w.type("_001")
    w.click(w.find(w.dump(), name="canvas"), dx=5, dy=5)
    w.key("d", "d")
    image = w.dump()["state"]["image"]
    w.check(Path(image).name == "demo_0012.jpg", "name filter, then D D", Path(image).name)
    if tab != "Label":
        bar = w.find(w.dump(), cls="QTabBar")
        w.click(next(t for t in bar["tabs"] if t["text"] == tab))
    ended = w.quit_app()
    w.check(ended, "Ctrl+Q ends the app")
    w.start_app()   # no project given: the last one
    d = w.dump()
    w.shot("after-restart")
    tabs = [t["text"] for t in w.find(d, cls="QTabBar")["tabs"]]
    w.check(d["state"]["image"] == image, "the last image is back", Path(d["state"]["image"]).name)
    w.check(tabs[d["state"]["tab"]] == tab, "the last tab is back", tabs[d["state"]["tab"]])
    w.click(next(t for t in w.find(d, cls="QTabBar")["tabs"] if t["text"] == "Label"))
    search = w.widget(name="imageSearch")
    w.shot("after-restart-label")
    w.check(search["text"] == "_001", "the list filter is back", search["text"])


def prelabel_unlabelled(root: Path) -> list[Path]:
    """The project's two unlabelled images (see make_project) given a model's pre-labels, as
    Pre-label or Suggest leave them: dashed, not verified."""
    import cv2

    from yolo_studio.core.annotations import Box, ImageAnnotation
    from yolo_studio.core.project import Project

    project = Project.open(root)
    images = [p for p in project.image_paths() if not project.has_labels(p)][:2]
    for p in images:
        h, w = cv2.imread(str(p)).shape[:2]
        project.save_annotation(ImageAnnotation(p, w, h, [Box(150, 150, 220, 220, "circle",
                                                               predicted=True, score=0.6)]))
    return images


def step_retrain_offer(w: Walk, root: Path, images: list[Path]) -> None:
    """Two pre-labelled images each get a box drawn, their guess left dashed: at the setting's 2
    new labels the labeller offers a retrain and says both still hold unaccepted pre-labels."""
    w.step = "7 retrain offer"
    w.click(w.find(w.dump(), name="canvas"), dx=5, dy=5)
    for image in images:
        while Path(w.dump()["state"]["image"]) != image:
            w.key("d")
        w.click(w.find(w.dump(), name="canvas"), dx=5, dy=5)
        w.key("w")
        w.drag(w.image_point(20, 20), w.image_point(90, 90))
        answer_prompt(w, "square")
        w.check(wait_xml(w, str(image), lambda a: len(a.boxes) == 2 and a.boxes[0].predicted
                         and not a.boxes[1].predicted, "drawn beside the guess"),
                f"{image.name}: a person's box beside the dashed guess, on disk")
        if image != images[-1]:
            w.click(w.find(w.dump(), name="canvas"), dx=5, dy=5)
    title = "Retrain with the new labels?"
    w.wait(lambda d: any(x["title"] == title for x in d["windows"]), 10, "the retrain offer")
    w.settle()
    text = w.label_text("You labelled")
    w.shot("retrain-offer")
    w.check("2 new images" in text and "2 of them still hold pre-labels" in text,
            "the offer says both new labels still hold unaccepted pre-labels", text.replace("\n", " ")[:160])
    w.click(w.widget(cls="QPushButton", text="Later", window=title))
    w.check(w.wait(lambda d: all(x["title"] != title for x in d["windows"]), 5, "the offer closed"),
            "Later closes the offer")
    w.click(w.find(w.dump(), name="canvas"), dx=5, dy=5)   # no window manager: the keyboard back


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="walk-out", help="folder for PNGs, walk.md and scratch files")
    ap.add_argument("--short", action="store_true", help="the quick part only (no models)")
    ap.add_argument("--display", help="X display to start Xvfb on (default: a free one)")
    ap.add_argument("--retrain-offer", action="store_true",
                    help="only the retrain offer after new labels on pre-labelled images (no models)")
    args = ap.parse_args(argv)
    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        print(f"gui_walk: missing {', '.join(missing)}", file=sys.stderr)
        return 2
    out = Path(args.out).resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    root = make_project(out)
    if args.retrain_offer:
        return _retrain_offer_walk(out, root, args.display)
    models = None if args.short else make_models(out)
    w = Walk(out, args.display)
    try:
        step_start(w, root)
        step_classes(w, root)
        step_draw(w, root)
        step_disk(w, root)
        if args.short:
            step_preview_buttons(w, root)
            step_restart(w, root, "Preview")
        else:
            step_anchors(w)
            step_preview_buttons(w, root, models["video"])
            step_preview_models(w, root, models["shapes"], models["pets"])
            step_prelabel(w, root)
            step_restart(w, root, "Label")
    except (WalkError, StopIteration) as e:
        w.check(False, f"could not go on: {e}")
        w.shot("stuck")
    finally:
        w.close()
    ok = w.report()
    print(f"{'all checks passed' if ok else 'some checks FAILED'}: {out / 'walk.md'}")
    return 0 if ok else 1


def _retrain_offer_walk(out: Path, root: Path, display: str | None) -> int:
    images = prelabel_unlabelled(root)
    (out / "home").mkdir(parents=True, exist_ok=True)
    (out / "home" / "settings.ini").write_text("[labeller]\nretrainAfterLabels=2\n", encoding="utf-8")
    w = Walk(out, display)
    try:
        w.start_app(root)
        step_retrain_offer(w, root, images)
        w.check(w.quit_app(), "Ctrl+Q ends the app")
    except (WalkError, StopIteration) as e:
        w.check(False, f"could not go on: {e}")
        w.shot("stuck")
    finally:
        w.close()
    ok = w.report()
    print(f"{'all checks passed' if ok else 'some checks FAILED'}: {out / 'walk.md'}")
    return 0 if ok else 1


def make_models(out: Path) -> dict:
    """Two random-weight yolov3-tiny checkpoints (64 px): the demo's classes, and other names."""
    import cv2
    import numpy as np

    from yolo_studio.core.model import ModelSpec, build_model, save_checkpoint

    folder = out / "models"
    shapes = folder / "shapes.weights.h5"
    model = build_model("yolov3-tiny", 3, 64)
    save_checkpoint(model, ModelSpec("yolov3-tiny", 3, 64, class_names=["circle", "square", "triangle"]),
                    shapes)
    pets = folder / "pets.weights.h5"
    save_checkpoint(model, ModelSpec("yolov3-tiny", 3, 64, class_names=["cat", "dog", "owl"]), pets)
    video = out / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 15, (160, 120))
    for i in range(60):
        img = np.full((120, 160, 3), 150, np.uint8)
        cv2.circle(img, (30 + 2 * i, 50), 16, (40, 40, 215), -1)
        writer.write(img)
    writer.release()
    return {"shapes": shapes, "pets": pets, "video": video}


if __name__ == "__main__":
    sys.exit(main())
