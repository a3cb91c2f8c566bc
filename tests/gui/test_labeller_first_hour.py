"""The labeller as a new user meets it in the first hour (issue 18, review gui-walk-2026-12-01).

Each test drives the real widgets the way a click or a key does.
"""
from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
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
    # Space kept the box selected: the next arrow nudges it again (and unverifies).
    assert panel.canvas.selected_indices() == [0]
    qtbot.keyClick(panel.canvas, Qt.Key_Down)
    qtbot.waitUntil(lambda: read_voc(label).boxes[0].y1 == before.y1 + 1, timeout=5000)
    assert not read_voc(label).verified


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
    located = []
    panel.locationChanged.connect(located.append)
    qtbot.keyClick(panel.canvas, Qt.Key_F5)
    assert panel.browser.model.rowCount() == 50
    assert "50 images" in panel.browser.count.text()
    assert "of 50" in located[-1]


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


def answer_class_prompt(text: str | None):
    """Answer the class prompt the next time it opens: type ``text`` and OK (None: Cancel)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QComboBox

    answered, tries = [], [0]

    def answer():
        dialog = QApplication.activeModalWidget()
        if dialog is None or dialog.objectName() != "classPrompt":
            tries[0] += 1
            if tries[0] < 500:  # about 10 s, then the test's own assert says what is missing
                QTimer.singleShot(20, answer)
            return
        if text is None:
            dialog.reject()
        else:
            from PySide6.QtTest import QTest
            from PySide6.QtWidgets import QDialogButtonBox

            combo = dialog.findChild(QComboBox)
            combo.lineEdit().selectAll()
            QTest.keyClicks(combo.lineEdit(), text)
            ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.Ok)
            QTest.mouseClick(ok, Qt.LeftButton)
        answered.append(text)

    QTimer.singleShot(0, answer)
    return answered


def drag_box(qtbot, panel, x1, y1, x2, y2):
    """W, then a drag on the canvas from image pixel (x1, y1) to (x2, y2)."""
    panel.activateWindow()  # back from a dialog: keys go to the active window only
    qtbot.waitUntil(panel.isActiveWindow, timeout=5000)
    panel.canvas.setFocus()
    qtbot.keyClick(panel.canvas, Qt.Key_W)
    assert panel.canvas.is_drawing()
    vp = panel.canvas.viewport()
    a, b = panel.canvas.mapFromScene(QPointF(x1, y1)), panel.canvas.mapFromScene(QPointF(x2, y2))
    qtbot.mousePress(vp, Qt.LeftButton, pos=a)
    qtbot.mouseMove(vp, pos=b)
    qtbot.mouseRelease(vp, Qt.LeftButton, pos=b)


def test_after_drawing_a_prompt_asks_the_class_and_takes_a_new_name(qtbot, demo_copy):
    from yolo_studio.gui.labeller.label_prompt import set_asks_after_drawing

    set_asks_after_drawing(True)   # the default for users; tests turn it off in conftest
    panel = make_panel(qtbot, demo_copy)
    label = panel.project.label_path(panel.current_path())
    n = len(panel.annotation().boxes)
    answered = answer_class_prompt("hexagon")
    drag_box(qtbot, panel, 10, 12, 50, 60)
    assert answered == ["hexagon"]
    assert "hexagon" in Project.open(demo_copy).classes
    qtbot.waitUntil(lambda: len(read_voc(label).boxes) == n + 1, timeout=5000)
    assert read_voc(label).boxes[-1].label == "hexagon"
    answered = answer_class_prompt(None)             # Cancel: no box
    drag_box(qtbot, panel, 60, 12, 90, 60)
    assert answered == [None]
    panel.store.flush()
    assert len(read_voc(label).boxes) == n + 1


def test_double_click_on_a_box_changes_its_class(qtbot, demo_copy):
    panel = make_panel(qtbot, demo_copy)
    label = panel.project.label_path(panel.current_path())
    old = panel.annotation().boxes[0].label
    new = next(c for c in panel.classes.classes() if c != old)
    answered = answer_class_prompt(new)
    click_box(qtbot, panel, 0, double=True)
    assert answered == [new]
    qtbot.waitUntil(lambda: read_voc(label).boxes[0].label == new, timeout=5000)


def test_labelimg_zoom_keys_ctrl_plus_and_minus(qtbot, demo_copy):
    panel = make_panel(qtbot, demo_copy)
    z = panel.canvas.zoom()
    qtbot.keyClick(panel.canvas, Qt.Key_Plus, Qt.ControlModifier)
    assert panel.canvas.zoom() > z * 1.1
    z = panel.canvas.zoom()
    qtbot.keyClick(panel.canvas, Qt.Key_Minus, Qt.ControlModifier)
    assert panel.canvas.zoom() < z / 1.1


def test_difficult_checkbox_sets_the_flag_of_the_selected_box(qtbot, demo_copy):
    panel = make_panel(qtbot, demo_copy)
    label = panel.project.label_path(panel.current_path())
    check = panel.boxes.difficult
    assert not check.isEnabled()   # nothing selected
    click_box(qtbot, panel, 0)
    assert check.isEnabled() and not check.isChecked()
    qtbot.mouseClick(check, Qt.LeftButton, pos=QPoint(8, check.height() // 2))  # on the box
    qtbot.waitUntil(lambda: read_voc(label).boxes[0].difficult, timeout=5000)
    assert "<difficult>1</difficult>" in label.read_text(encoding="utf-8")
    assert check.isChecked()


def test_ctrl_d_can_mean_duplicate_as_in_labelimg_and_the_sheet_says_so(qtbot, demo_copy):
    from yolo_studio.gui.shortcuts import shortcut_sheet_html

    assert "In LabelImg, Ctrl+D duplicates the selected box" in shortcut_sheet_html()
    panel = make_panel(qtbot, demo_copy)
    panel.apply_ctrl_d(True)        # Edit > "Ctrl+D duplicates the selected box (as LabelImg)"
    label = panel.project.label_path(panel.current_path())
    n = len(panel.annotation().boxes)
    first = panel.annotation().boxes[0]
    click_box(qtbot, panel, 0)
    qtbot.keyClick(panel.canvas, Qt.Key_D, Qt.ControlModifier)
    qtbot.waitUntil(lambda: len(read_voc(label).boxes) == n + 1, timeout=5000)
    copy = read_voc(label).boxes[-1]
    assert copy.label == first.label and copy.x1 == min(first.x1 + 10, copy.x1)
    assert panel.canvas.selected_indices() == [n]
    sheet = shortcut_sheet_html(ctrl_d_duplicates=True)
    assert "Ctrl+D</code></td><td>Duplicate the selected boxes" in sheet


def test_verified_images_are_tinted_in_the_list(qtbot, demo_copy):
    from yolo_studio.gui.labeller.image_list import NONE, VERIFIED

    sorted((demo_copy / "images").glob("*.xml"))[3].unlink()   # one image with no labels
    panel = make_panel(qtbot, demo_copy)
    view, model, proxy = panel.browser.view, panel.browser.model, panel.browser.proxy
    rows = {model.info(r).state: r for r in range(12)}
    assert VERIFIED in rows and NONE in rows
    shot = view.viewport().grab().toImage()

    def background(row):
        rect = view.visualRect(proxy.mapFromSource(model.index(row)))
        return shot.pixelColor(rect.right() - 40, rect.center().y()).name()

    assert background(rows[VERIFIED]) != background(rows[NONE])


def test_an_outside_edit_after_our_own_save_is_reloaded_too(qtbot, demo_copy):
    panel = make_panel(qtbot, demo_copy)
    label = panel.project.label_path(panel.current_path())
    click_box(qtbot, panel, 0)
    qtbot.keyClick(panel.canvas, Qt.Key_Right)
    panel.store.flush()          # our save replaces the file (os.replace): a new inode to watch
    first = panel.annotation().boxes[0].label
    other = next(c for c in panel.classes.classes() if c != first)
    outside_edit(label, f"<name>{first}</name>", f"<name>{other}</name>")
    qtbot.waitUntil(lambda: panel.annotation().boxes[0].label == other, timeout=10000)
