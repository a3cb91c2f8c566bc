"""The labeller on datasets other tools laid out: an edit saves only that image's label file."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, QRectF

sys.path.insert(0, str(Path(__file__).parents[1] / "core"))
from layout_fixtures import (changed, coco_dataset, snapshot, synthetic_coco, ultralytics_dataset,  # noqa: E402
                             voc_devkit)

from yolo_studio.core.project import Project  # noqa: E402
from yolo_studio.gui.context import AppContext  # noqa: E402
from yolo_studio.gui.labeller.panel import LabellerPanel  # noqa: E402


def _panel(qtbot, path):
    panel = LabellerPanel(AppContext(Project.open(path)))
    qtbot.addWidget(panel)
    panel.resize(1000, 650)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


@pytest.mark.parametrize("layout", ["ultralytics", "voc-devkit", "coco"])
def test_drawing_a_box_saves_only_that_images_label_file_in_its_own_format(qtbot, tmp_path, layout):
    if layout == "ultralytics":
        opened = ultralytics_dataset(tmp_path / "ds")
    elif layout == "voc-devkit":
        opened = voc_devkit(tmp_path / "ds")
    else:
        opened = coco_dataset(tmp_path / "ds")
    before = snapshot(tmp_path)
    panel = _panel(qtbot, opened)
    first = panel.current_path()
    label = panel.project.label_path(first)
    boxes = len(panel.annotation().boxes)
    panel.canvas.boxDrawn.emit(QRectF(QPointF(2, 2), QPointF(12, 10)))
    panel.store.flush()
    assert changed(before, snapshot(tmp_path)) == {label}
    again = Project.open(opened).load_annotation(first)
    assert len(again.boxes) == boxes + 1 and again.boxes[-1].xyxy() == pytest.approx((2, 2, 12, 10), abs=0.5)
    if layout == "coco":
        entries = json.loads(label.read_text())["annotations"]
        assert sum(a["iscrowd"] for a in entries) == 2          # both crowd regions are still there


def test_coco_edits_of_two_images_in_turn_both_save_without_a_false_conflict(qtbot, tmp_path, monkeypatch):
    from yolo_studio.gui.labeller import disk_sync
    asked = []
    monkeypatch.setattr(disk_sync, "ask_reload", lambda parent, image: asked.append(image) and False)
    coco_dataset(tmp_path / "ds")
    panel = _panel(qtbot, tmp_path / "ds")
    conflicts = []
    panel.store.conflict.connect(conflicts.append)
    first = panel.current_path()
    panel.canvas.boxDrawn.emit(QRectF(QPointF(2, 2), QPointF(12, 10)))
    panel.store.flush()
    panel.step(1)
    second = panel.current_path()
    panel.canvas.boxDrawn.emit(QRectF(QPointF(3, 3), QPointF(13, 11)))
    assert panel.store.flush() and conflicts == []       # one JSON holds both: our own save is no conflict
    again = Project.open(tmp_path / "ds")
    assert [len(again.load_annotation(p).boxes) for p in (first, second)] == [2, 2]
    f = again.label_path(second)
    f.write_text(f.read_text().replace("COCO 2017 Dataset", "changed by another program"))
    panel.canvas.boxDrawn.emit(QRectF(QPointF(4, 4), QPointF(14, 12)))
    assert not panel.store.flush() and conflicts == [second]   # another program's write is one
    qtbot.waitUntil(lambda: asked == [second])                  # and the labeller asks about it


def test_the_class_filter_on_coco_reads_no_label_and_shows_what_reading_each_would(qtbot, tmp_path, monkeypatch):
    panel = _panel(qtbot, synthetic_coco(tmp_path / "ds"))
    project, browser = panel.project, panel.browser
    expected = [p for p in project.image_paths() if "car" in project.load_annotation(p).labels()]
    reads = []
    real = project.load_annotation
    monkeypatch.setattr(project, "load_annotation", lambda p: reads.append(p) or real(p))
    browser.set_filters(cls="car")
    shown = [browser.path_at(r) for r in range(browser.shown_count())]
    assert shown == expected and 0 < len(shown) < len(project.image_paths())
    assert reads == []                            # the dataset's index answered, nothing was read
    # An edit here counts before any save: the image shown now has no car, so it leaves the list.
    browser.set_filters()
    ann = real(expected[0])
    ann.boxes = [b for b in ann.boxes if b.label != "car"]
    browser.model.update_annotation(ann)
    browser.set_filters(cls="car")
    assert [browser.path_at(r) for r in range(browser.shown_count())] == expected[1:]
    browser.set_filters()
    assert browser.shown_count() == len(project.image_paths())
