"""The labeller and the disk: autosave, reopening, broken files, big folders, classes."""
from __future__ import annotations

import os
import shutil

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtWidgets import QInputDialog, QMessageBox

from yolo_studio.core.annotations import Box
from yolo_studio.core.formats.voc import read_voc
from yolo_studio.core.formats.yolo_txt import read_yolo
from yolo_studio.core.project import Project
from yolo_studio.gui.context import AppContext
from yolo_studio.gui.labeller.image_list import BROKEN, NONE, VERIFIED
from yolo_studio.gui.labeller.panel import LabellerPanel


def make_panel(qtbot, root):
    context = AppContext(Project.open(root))
    p = LabellerPanel(context)
    qtbot.addWidget(p)
    p.resize(1000, 650)
    p.show()
    qtbot.waitExposed(p)
    p.canvas.setFocus()
    return p


def draw(panel, x1, y1, x2, y2):
    """Draw a box the way the canvas reports a finished drag."""
    panel.canvas.boxDrawn.emit(QRectF(QPointF(x1, y1), QPointF(x2, y2)))


def test_every_edit_reaches_the_disk_by_itself_and_reopens_identically(qtbot, demo_copy):
    panel = make_panel(qtbot, demo_copy)
    image = panel.current_path()
    label = panel.project.label_path(image)
    panel.classes.set_current_class("square")
    draw(panel, 3.5, 4.25, 40, 41)
    # Autosave is debounced (SAVE_DELAY_MS): the file changes by itself shortly after
    # the edit, with no Save and no image switch; the timeout only guards a loaded machine.
    qtbot.waitUntil(lambda: any(b.xyxy() == (4, 4, 40, 41) for b in read_voc(label).boxes),
                    timeout=5000)
    qtbot.keyClick(panel.canvas, Qt.Key_Space)
    qtbot.waitUntil(lambda: read_voc(label).verified, timeout=5000)
    on_disk = read_voc(label)
    shown = panel.annotation()
    panel.close()
    again = make_panel(qtbot, demo_copy)
    assert again.current_path() == image
    reopened = again.annotation()
    assert [(b.label, b.xyxy()) for b in reopened.boxes] == [(b.label, b.xyxy()) for b in on_disk.boxes]
    assert [b.label for b in reopened.boxes] == [b.label for b in shown.boxes]
    assert reopened.verified


def test_switching_image_saves_at_once(qtbot, demo_copy):
    panel = make_panel(qtbot, demo_copy)
    label = panel.project.label_path(panel.current_path())
    n = len(read_voc(label).boxes)
    draw(panel, 10, 10, 30, 30)
    panel.step(1)  # flushes without waiting for the timer
    assert len(read_voc(label).boxes) == n + 1
    assert not panel.store.has_pending()


def test_yolo_project_saves_yolo_txt(qtbot, tmp_path):
    from yolo_studio.core.demo import generate_demo_project
    root = generate_demo_project(tmp_path / "y", n_images=3, seed=2, min_size=64, max_size=96,
                                 label_format="yolo")
    panel = make_panel(qtbot, root)
    image = panel.current_path()
    panel.classes.set_current_class("circle")
    draw(panel, 5, 6, 30, 33)
    panel.store.flush()
    ann = panel.annotation()
    boxes = read_yolo(panel.project.label_path(image), ann.width, ann.height,
                      panel.project.classes, image).boxes
    assert any(b.label == "circle" and b.xyxy() == pytest.approx((5, 6, 30, 33), abs=0.01)
               for b in boxes)


def test_corrupt_image_shows_a_message_and_the_app_keeps_working(qtbot, demo_copy):
    images = sorted((demo_copy / "images").glob("*.jpg"))
    bad = images[1]
    bad.write_bytes(b"this is not a jpeg")
    panel = make_panel(qtbot, demo_copy)
    panel.step(1)
    assert panel.current_path() == bad
    assert bad.name in panel.canvas.message()
    assert not panel.canvas.has_image()
    row = panel.browser.model.row_of(bad)
    assert panel.browser.model.info(row).state == BROKEN
    assert "decoded" in panel.browser.model.data(panel.browser.model.index(row), Qt.ToolTipRole)
    qtbot.keyClick(panel.canvas, Qt.Key_W)  # nothing to draw on, no crash
    qtbot.keyClick(panel.canvas, Qt.Key_Space)
    panel.step(1)
    assert panel.canvas.has_image() and panel.annotation() is not None
    # The list filter finds the broken image.
    panel.browser.state_box.setCurrentIndex(panel.browser.state_box.findData(BROKEN))
    assert panel.browser.shown_count() == 1
    # Once the file is fixed, revisiting it shows it and clears the marker.
    shutil.copyfile(images[0], bad)
    panel.show_image(bad)
    assert panel.current_path() == bad and panel.canvas.has_image()
    assert panel.browser.model.info(row).state != BROKEN


def test_malformed_label_file_is_shown_read_only_and_never_overwritten(qtbot, demo_copy):
    images = sorted((demo_copy / "images").glob("*.jpg"))
    label = images[0].with_suffix(".xml")
    label.write_text("<annotation><object><name>circle</name>", encoding="utf-8")
    panel = make_panel(qtbot, demo_copy)
    assert panel.banner.isVisible() and label.name in panel.banner.text()
    draw(panel, 5, 5, 20, 20)
    qtbot.keyClick(panel.canvas, Qt.Key_Space)
    panel.store.flush()
    panel.step(1)
    assert label.read_text(encoding="utf-8") == "<annotation><object><name>circle</name>"


def test_failed_save_keeps_the_edit_and_says_why(qtbot, demo_copy, monkeypatch):
    panel = make_panel(qtbot, demo_copy)
    messages = []
    panel.context.statusMessage.connect(messages.append)
    real_save = panel.project.save_annotation

    def disk_full(ann):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(panel.project, "save_annotation", disk_full)
    draw(panel, 5, 5, 25, 25)
    assert not panel.store.flush()
    assert any("No space left" in m for m in messages)
    assert panel.store.has_pending()
    monkeypatch.setattr(panel.project, "save_annotation", real_save)
    assert panel.store.flush()
    label = panel.project.label_path(panel.current_path())
    assert any(b.xyxy() == (5, 5, 25, 25) for b in read_voc(label).boxes)


def test_ten_thousand_images_open_without_reading_them(qtbot, tmp_path, monkeypatch):
    folder = tmp_path / "big"
    folder.mkdir()
    ok, png = cv2.imencode(".png", np.full((64, 80, 3), 90, np.uint8))
    src = folder / "img_00000.png"
    src.write_bytes(png.tobytes())
    for i in range(1, 10_000):
        os.link(src, folder / f"img_{i:05d}.png")
    import yolo_studio.gui.labeller.prefetch as prefetch_module
    decoded = []
    real_read = prefetch_module.read_image
    monkeypatch.setattr(prefetch_module, "read_image", lambda p: decoded.append(p) or real_read(p))
    panel = make_panel(qtbot, folder)
    assert panel.browser.model.rowCount() == 10_000
    panel.prefetcher.take(folder / "img_00001.png")
    # Only the image on screen and the next one (prefetched) were decoded.
    assert sorted(decoded) == [src, folder / "img_00001.png"]
    assert len(panel.browser.model._info) < 200  # states computed for visible rows only
    assert panel.annotation().width == 80
    assert "10,000 images" in panel.browser.count.text()
    panel.show_image(folder / "img_09999.png")
    assert panel.current_path().name == "img_09999.png"


def test_filters_by_state_and_class(qtbot, demo_copy):
    panel = make_panel(qtbot, demo_copy)
    paths = panel.browser.model.paths()
    panel.project.label_path(paths[2]).unlink()
    panel.browser.model.forget(paths[2])
    b = panel.browser
    b.state_box.setCurrentIndex(b.state_box.findData(NONE))
    assert b.shown_count() == 1 and panel.current_path() == paths[2]
    b.state_box.setCurrentIndex(b.state_box.findData(VERIFIED))
    assert b.shown_count() == len(paths) - 1
    b.state_box.setCurrentIndex(0)
    b.class_box.setCurrentIndex(b.class_box.findData("triangle"))
    shown = [b.path_at(r) for r in range(b.shown_count())]
    assert shown and all(any(x.label == "triangle" for x in panel.project.load_annotation(p).boxes)
                         for p in shown)
    # Jumping to a hidden image clears the filters rather than failing.
    hidden = next(p for p in paths if p not in shown)
    assert panel.show_image(hidden) and panel.current_path() == hidden


def test_rename_class_confirms_with_counts_and_relabels_files(qtbot, demo_copy, monkeypatch):
    panel = make_panel(qtbot, demo_copy)
    boxes, files = panel.project.class_usage("circle")
    asked = []
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("disc", True))
    monkeypatch.setattr(QMessageBox, "question", lambda _p, _t, text, *a: asked.append(text) or QMessageBox.Yes)
    shown = [p for p in panel.browser.model.paths()
             if "circle" in panel.project.load_annotation(p).labels()][0]
    panel.show_image(shown)
    panel.classes.set_current_class("circle")
    assert panel.classes.rename_current()
    assert f"{files} label file" in asked[0] and f"{boxes} box" in asked[0]
    assert "disc" in panel.project.classes and "circle" not in panel.project.classes
    anns, _ = Project.open(demo_copy).load_all()
    labels = {b.label for a in anns for b in a.boxes}
    assert "disc" in labels and "circle" not in labels
    assert "circle" not in {b.label for b in panel.annotation().boxes}
    assert panel.classes.current_class() == "disc"


def test_delete_class_says_how_many_boxes_and_can_be_cancelled(qtbot, demo_copy, monkeypatch):
    panel = make_panel(qtbot, demo_copy)
    boxes, _files = panel.project.class_usage("square")
    said = []
    answer = [QMessageBox.Cancel]
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text, *a: said.append(text) or answer[0])
    panel.classes.set_current_class("square")
    assert not panel.classes.delete_current()
    assert f"{boxes} box" in said[0]
    assert "square" in Project.open(demo_copy).classes
    answer[0] = QMessageBox.Yes
    assert panel.classes.delete_current()
    anns, _ = Project.open(demo_copy).load_all()
    assert not any(b.label == "square" for a in anns for b in a.boxes)
    assert all(b.label != "square" for b in panel.annotation().boxes)


def test_labels_changed_elsewhere_are_reloaded(qtbot, demo_copy):
    panel = make_panel(qtbot, demo_copy)
    image = panel.current_path()
    ann = panel.project.load_annotation(image)
    ann.boxes.append(Box(1, 2, 30, 31, "circle", predicted=True, score=0.6))
    ann.verified = False
    panel.project.save_annotation(ann)
    panel.context.labelsChanged.emit([str(image)])
    assert panel.annotation().boxes[-1].predicted
    assert panel.canvas.items_()[-1].predicted


def test_prelabel_action_offers_unlabelled_images(qtbot, demo_copy, monkeypatch):
    import yolo_studio.gui.labeller.prelabel_dialog as prelabel_module
    opened = []

    class FakeDialog:  # records what the labeller hands over; the real dialog is tested by preview
        def __init__(self, context, paths, parent):
            opened.append(list(paths))

        def setAttribute(self, *a):
            pass

        def open(self):
            pass

    monkeypatch.setattr(prelabel_module, "PrelabelDialog", FakeDialog)
    panel = make_panel(qtbot, demo_copy)
    paths = panel.browser.model.paths()
    for p in paths[3:6]:
        panel.project.label_path(p).unlink()
    panel.actions["prelabel"].trigger()
    assert opened == [paths[3:6]]


def test_a_plain_labelimg_folder_opens_with_its_boxes(qtbot, demo_copy, tmp_path):
    moved = tmp_path / "moved"
    shutil.copytree(demo_copy / "images", moved)
    panel = make_panel(qtbot, moved)  # a plain folder with LabelImg XMLs
    assert panel.annotation() is not None and panel.annotation().boxes


def test_an_empty_folder_shows_a_hint_and_keys_do_nothing_harmful(qtbot, tmp_path):
    (tmp_path / "empty").mkdir()
    panel = make_panel(qtbot, tmp_path / "empty")
    assert "No images" in panel.canvas.message()
    for k in (Qt.Key_D, Qt.Key_A, Qt.Key_W, Qt.Key_Space, Qt.Key_Delete, Qt.Key_U, Qt.Key_1):
        qtbot.keyClick(panel.canvas, k)
    qtbot.keyClick(panel.canvas, Qt.Key_D, Qt.ControlModifier)
    panel.actions["prelabel"].trigger()
    assert panel.current_path() is None and panel.annotation() is None
    assert list((tmp_path / "empty").iterdir()) == []  # nothing written


def test_filtering_a_big_list_shows_progress_and_can_be_cancelled(qtbot, demo_copy, monkeypatch):
    import yolo_studio.gui.labeller.browser as browser_module
    from PySide6.QtWidgets import QProgressDialog
    monkeypatch.setattr(browser_module, "PROGRESS_MIN_ROWS", 10)
    monkeypatch.setattr(QProgressDialog, "wasCanceled", lambda self: True)
    panel = make_panel(qtbot, demo_copy)
    b = panel.browser
    b.state_box.setCurrentIndex(b.state_box.findData(VERIFIED))
    assert b.state_box.currentData() == ""  # cancelled: the widget goes back
    assert b.shown_count() == 48
    monkeypatch.setattr(QProgressDialog, "wasCanceled", lambda self: False)
    b.class_box.setCurrentIndex(b.class_box.findData("circle"))
    assert 0 < b.shown_count() < 48
    assert all(b.model.is_cached(r) for r in range(48))


def test_new_images_appear_in_the_list_without_disturbing_the_view(qtbot, demo_copy):
    panel = make_panel(qtbot, demo_copy)
    panel.step(1)
    current = panel.current_path()
    panel.canvas.zoom_by(2.0)
    zoom = panel.canvas.zoom()
    frame = np.full((70, 90, 3), 200, np.uint8)
    new = panel.project.add_image(frame, "snapshot.jpg", [Box(5, 5, 40, 40, "circle", predicted=True)])
    panel.context.imagesAdded.emit([new])
    assert panel.browser.model.rowCount() == 49
    assert panel.current_path() == current and panel.canvas.zoom() == pytest.approx(zoom)
    assert panel.show_image(new)
    assert panel.annotation().boxes[0].predicted and panel.canvas.items_()[0].predicted


def test_list_rows_sit_one_row_height_apart_and_a_jump_far_down_shows_its_row(qtbot, demo_copy):
    # The list is laid out on a grid of the delegate's row height (half the calls into Python
    # on COCO's 118,287 rows): rows must neither overlap nor leave gaps, and clicks and jumps
    # must land on the row drawn there.
    from yolo_studio.gui.labeller.image_list import ImageDelegate
    panel = make_panel(qtbot, demo_copy)
    view, proxy = panel.browser.view, panel.browser.proxy
    tops = [view.visualRect(proxy.index(r, 0)).top() for r in range(4)]
    assert [b - a for a, b in zip(tops, tops[1:])] == [ImageDelegate.ROW_H] * 3
    assert view.visualRect(proxy.index(0, 0)).width() >= view.viewport().width() - 2
    last = panel.project.image_paths()[-1]
    assert panel.show_image(last) and panel.current_path() == last
    rect = view.visualRect(view.currentIndex())
    assert view.viewport().rect().contains(rect.center())
    assert panel.browser.path_at(view.indexAt(rect.center()).row()) == last
