"""The labeller as a new user meets it in the first hour (issue 18, review gui-walk-2026-12-01).

Each test drives the real widgets the way a click or a key does.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QInputDialog, QMessageBox, QToolButton

from yolo_studio.core.formats.voc import read_voc
from yolo_studio.core.project import Project
from yolo_studio.gui.context import AppContext
from yolo_studio.gui.labeller.panel import LabellerPanel


def make_panel(qtbot, root):
    context = AppContext(Project.open(root))
    p = LabellerPanel(context)
    qtbot.addWidget(p)
    p.resize(1000, 650)
    p.show()
    qtbot.waitExposed(p)
    p.activateWindow()  # shortcuts (arrows, 1-9, Ctrl+...) fire only in the active window
    qtbot.waitUntil(p.isActiveWindow, timeout=5000)
    p.canvas.setFocus()
    return p


def test_add_class_button_asks_for_a_name_and_adds_it(qtbot, demo_copy, monkeypatch):
    panel = make_panel(qtbot, demo_copy)
    asked, warned = [], []
    monkeypatch.setattr(QInputDialog, "getText",
                        lambda *a, **k: (asked.append(a[1:3]), ("hexagon", True))[1])
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warned.append(a[2]))
    button = panel.classes.findChild(QToolButton, "class_add")
    qtbot.mouseClick(button, Qt.LeftButton)
    assert asked and not warned
    assert "hexagon" in panel.classes.classes()
    assert panel.classes.current_class() == "hexagon"
    assert "hexagon" in Project.open(demo_copy).classes


def test_rename_button_asks_for_a_name_and_relabels(qtbot, demo_copy, monkeypatch):
    panel = make_panel(qtbot, demo_copy)
    panel.classes.set_current_class("square")
    warned = []
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("box", True))
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warned.append(a[2]))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)
    qtbot.mouseClick(panel.classes.findChild(QToolButton, "class_rename"), Qt.LeftButton)
    assert not warned
    classes = Project.open(demo_copy).classes
    assert "box" in classes and "square" not in classes
    labels = {b.label for p in (demo_copy / "images").glob("*.xml") for b in read_voc(p).boxes}
    assert "box" in labels and "square" not in labels


def test_an_unreadable_image_is_counted_as_such_before_it_is_opened(qtbot, demo_copy):
    from yolo_studio.gui.labeller.image_list import BROKEN

    images = sorted((demo_copy / "images").glob("*.jpg"))
    bad = images[5]
    bad.write_bytes(b"random bytes, not a jpeg")
    bad.with_suffix(".xml").unlink(missing_ok=True)
    panel = make_panel(qtbot, demo_copy)   # as after a restart: nothing opened but the first image
    assert panel.current_path() == images[0]
    box = panel.browser.state_box
    box.setFocus()
    box.setCurrentIndex(box.findData(BROKEN))   # the "Cannot be read" filter
    assert panel.browser.shown_count() == 1
    assert panel.browser.path_at(0) == bad
    assert "1 of 48" in panel.browser.count.text()


def click_box(qtbot, panel, index, button=Qt.LeftButton, double=False):
    """Click the middle of box ``index`` on the canvas, as the mouse does."""
    box = panel.annotation().boxes[index]
    pos = panel.canvas.mapFromScene(QPointF((box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2))
    if double:
        qtbot.mouseDClick(panel.canvas.viewport(), button, pos=pos)
    else:
        qtbot.mouseClick(panel.canvas.viewport(), button, pos=pos)


def verified_image(qtbot, panel):
    """Make the image on screen verified (Space), on disk too; returns its label file."""
    label = panel.project.label_path(panel.current_path())
    if not panel.annotation().verified:
        qtbot.keyClick(panel.canvas, Qt.Key_Space)
    qtbot.waitUntil(lambda: read_voc(label).verified, timeout=5000)
    return label


def test_an_edit_takes_verified_away_until_space_again(qtbot, demo_copy):
    panel = make_panel(qtbot, demo_copy)
    label = verified_image(qtbot, panel)
    before = read_voc(label).boxes[0]
    click_box(qtbot, panel, 0)
    assert panel.canvas.selected_indices() == [0]
    qtbot.keyClick(panel.canvas, Qt.Key_Right)
    qtbot.waitUntil(lambda: read_voc(label).boxes[0].x1 == before.x1 + 1, timeout=5000)
    assert not read_voc(label).verified
    assert not panel.actions["verify"].isChecked()
    qtbot.keyClick(panel.canvas, Qt.Key_Space)
    qtbot.waitUntil(lambda: read_voc(label).verified, timeout=5000)


def test_new_images_in_the_folder_appear_by_themselves_and_with_f5(qtbot, demo_copy):
    import shutil

    panel = make_panel(qtbot, demo_copy)
    current = panel.current_path()
    images = sorted((demo_copy / "images").glob("*.jpg"))
    shutil.copy(images[3], demo_copy / "images" / "new_0000.jpg")
    # The folder watcher rescans by itself (debounced).
    qtbot.waitUntil(lambda: panel.browser.model.rowCount() == 49, timeout=10000)
    assert panel.current_path() == current
    panel.disk.watcher.removePaths(panel.disk.watcher.directories())   # no watcher: F5 still works
    shutil.copy(images[3], demo_copy / "images" / "new_0001.jpg")
    qtbot.keyClick(panel.canvas, Qt.Key_F5)
    assert panel.browser.model.rowCount() == 50
    assert "50 images" in panel.browser.count.text()


def outside_edit(label, old, new):
    """Another program rewrites ``label``, replacing ``old`` by ``new``."""
    text = label.read_text(encoding="utf-8")
    assert old in text
    label.write_text(text.replace(old, new), encoding="utf-8")


def test_an_outside_edit_is_reloaded_when_nothing_is_pending(qtbot, demo_copy):
    panel = make_panel(qtbot, demo_copy)
    label = panel.project.label_path(panel.current_path())
    first = panel.annotation().boxes[0].label
    other = next(c for c in panel.classes.classes() if c != first)
    outside_edit(label, f"<name>{first}</name>", f"<name>{other}</name>")
    qtbot.waitUntil(lambda: panel.annotation().boxes[0].label == other, timeout=10000)


def test_an_outside_edit_is_never_overwritten_silently(qtbot, demo_copy, monkeypatch):
    import yolo_studio.gui.labeller.disk_sync as disk_sync

    panel = make_panel(qtbot, demo_copy)
    panel.disk.watcher.removePaths(panel.disk.watcher.files() + panel.disk.watcher.directories())
    label = panel.project.label_path(panel.current_path())
    first = panel.annotation().boxes[0]
    other = next(c for c in panel.classes.classes() if c != first.label)
    outside_edit(label, f"<name>{first.label}</name>", f"<name>{other}</name>")
    asked = []
    monkeypatch.setattr(disk_sync, "ask_reload", lambda parent, image: asked.append(image) or True)
    click_box(qtbot, panel, 0)
    qtbot.keyClick(panel.canvas, Qt.Key_Right)       # our edit, on top of a stale file
    qtbot.waitUntil(lambda: bool(asked), timeout=5000)
    # Reload chosen: the file keeps the outside edit, and the screen shows it.
    assert read_voc(label).boxes[0].label == other
    assert read_voc(label).boxes[0].x1 == first.x1
    qtbot.waitUntil(lambda: panel.annotation().boxes[0].label == other, timeout=5000)
    # Keep mine chosen: our edit is written, because the user said so.
    outside_edit(label, f"<name>{other}</name>", f"<name>{first.label}</name>")
    monkeypatch.setattr(disk_sync, "ask_reload", lambda parent, image: asked.append(image) and False)
    click_box(qtbot, panel, 0)
    qtbot.keyClick(panel.canvas, Qt.Key_Right)
    qtbot.waitUntil(lambda: len(asked) == 2 and read_voc(label).boxes[0].x1 == first.x1 + 1,
                    timeout=5000)
    assert read_voc(label).boxes[0].label == other
