"""The labeller driven like a user: mouse on the canvas viewport, keys, undo."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from yolo_studio.core.annotations import Box, ImageAnnotation
from yolo_studio.core.project import Project
from yolo_studio.gui.context import AppContext
from yolo_studio.gui.labeller.panel import LabellerPanel


@pytest.fixture
def panel(qtbot, demo_copy):
    """A shown labeller on a private copy of the demo project, at its first image."""
    context = AppContext(Project.open(demo_copy))
    p = LabellerPanel(context)
    qtbot.addWidget(p)
    p.resize(1100, 700)
    p.show()
    qtbot.waitExposed(p)
    p.activateWindow()
    p.canvas.setFocus()
    return p


def vp(panel, x, y) -> QPoint:
    """Viewport position of image pixel (x, y)."""
    return panel.canvas.mapFromScene(QPointF(x, y))


def drag(qtbot, panel, a, b, button=Qt.LeftButton, steps=4):
    """Press at image pixel ``a``, move in steps, release at ``b``."""
    viewport = panel.canvas.viewport()
    qtbot.mousePress(viewport, button, pos=vp(panel, *a))
    for k in range(1, steps + 1):
        t = k / steps
        qtbot.mouseMove(viewport, vp(panel, a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t))
    qtbot.mouseRelease(viewport, button, pos=vp(panel, *b))


def key(qtbot, panel, k, modifier=Qt.NoModifier):
    qtbot.keyClick(panel.canvas, k, modifier)


def set_boxes(panel, boxes, verified=False):
    """Put ``boxes`` on the current image as if they were in its label file."""
    ann = panel.annotation()
    panel.store.apply(ImageAnnotation(ann.image_path, ann.width, ann.height, boxes, verified))
    panel.store.flush()


def test_draw_a_box_with_w_and_the_mouse(qtbot, panel):
    panel.classes.set_current_class("triangle")
    before = len(panel.annotation().boxes)
    key(qtbot, panel, Qt.Key_W)
    assert panel.canvas.is_drawing()
    assert panel.canvas.viewport().cursor().shape() == Qt.CrossCursor
    drag(qtbot, panel, (10, 12), (60, 70))
    boxes = panel.annotation().boxes
    assert len(boxes) == before + 1
    new = boxes[-1]
    assert new.label == "triangle"
    assert new.x1 == pytest.approx(10, abs=1.5) and new.y1 == pytest.approx(12, abs=1.5)
    assert new.x2 == pytest.approx(60, abs=1.5) and new.y2 == pytest.approx(70, abs=1.5)
    assert not panel.canvas.is_drawing()  # LabelImg: one box per W
    assert panel.canvas.selected_indices() == [len(boxes) - 1]


def test_drawing_past_the_edge_is_clipped_to_the_image(qtbot, panel):
    w, h = panel.annotation().width, panel.annotation().height
    key(qtbot, panel, Qt.Key_W)
    drag(qtbot, panel, (w - 20, h - 20), (w + 40, h + 40))
    new = panel.annotation().boxes[-1]
    assert new.x2 == pytest.approx(w) and new.y2 == pytest.approx(h)


def test_a_click_without_drag_makes_no_box(qtbot, panel):
    before = len(panel.annotation().boxes)
    key(qtbot, panel, Qt.Key_W)
    drag(qtbot, panel, (30, 30), (30, 30), steps=1)
    assert len(panel.annotation().boxes) == before
    key(qtbot, panel, Qt.Key_Escape)
    assert not panel.canvas.is_drawing()


def test_move_and_resize_a_box_then_undo_redo(qtbot, panel):
    set_boxes(panel, [Box(20, 20, 50, 50, "circle")])
    drag(qtbot, panel, (35, 35), (45, 40))  # grab the middle: move
    moved = panel.annotation().boxes[0]
    assert (moved.x1, moved.y1, moved.x2, moved.y2) == pytest.approx((30, 25, 60, 55), abs=1.5)
    assert panel.canvas.selected_indices() == [0]
    drag(qtbot, panel, (moved.x2, moved.y2), (moved.x2 + 15, moved.y2 + 10))  # bottom-right handle
    resized = panel.annotation().boxes[0]
    assert (resized.x1, resized.y1) == pytest.approx((moved.x1, moved.y1), abs=0.01)
    assert (resized.x2, resized.y2) == pytest.approx((moved.x2 + 15, moved.y2 + 10), abs=1.5)
    key(qtbot, panel, Qt.Key_Z, Qt.ControlModifier)
    assert panel.annotation().boxes[0] == moved
    key(qtbot, panel, Qt.Key_Z, Qt.ControlModifier)
    assert panel.annotation().boxes[0].xyxy() == (20, 20, 50, 50)
    key(qtbot, panel, Qt.Key_Y, Qt.ControlModifier)
    key(qtbot, panel, Qt.Key_Y, Qt.ControlModifier)
    assert panel.annotation().boxes[0] == resized


def test_moving_a_box_keeps_it_inside_the_image(qtbot, panel):
    set_boxes(panel, [Box(5, 5, 25, 25, "square")])
    drag(qtbot, panel, (15, 15), (-40, -40))
    b = panel.annotation().boxes[0]
    assert (b.x1, b.y1, b.x2, b.y2) == pytest.approx((0, 0, 20, 20), abs=0.01)


def test_delete_selected_box_and_undo(qtbot, panel):
    set_boxes(panel, [Box(10, 10, 30, 30, "circle"), Box(40, 40, 70, 70, "square")])
    qtbot.mouseClick(panel.canvas.viewport(), Qt.LeftButton, pos=vp(panel, 55, 55))
    assert panel.canvas.selected_indices() == [1]
    key(qtbot, panel, Qt.Key_Delete)
    assert [b.label for b in panel.annotation().boxes] == ["circle"]
    key(qtbot, panel, Qt.Key_Z, Qt.ControlModifier)
    assert [b.label for b in panel.annotation().boxes] == ["circle", "square"]


def test_number_keys_and_class_list_relabel_the_selected_box(qtbot, panel):
    set_boxes(panel, [Box(10, 10, 40, 40, "circle")])
    panel.canvas.select([0])
    classes = panel.project.classes
    key(qtbot, panel, Qt.Key_3)
    assert panel.annotation().boxes[0].label == classes[2]
    panel.classes.set_current_class(classes[1])
    assert panel.annotation().boxes[0].label == classes[1]
    key(qtbot, panel, Qt.Key_9)  # no class 9: nothing changes
    assert panel.annotation().boxes[0].label == classes[1]
    key(qtbot, panel, Qt.Key_Z, Qt.ControlModifier)
    assert panel.annotation().boxes[0].label == classes[2]


def test_space_verifies_and_ctrl_d_copies_previous_boxes(qtbot, panel):
    first = panel.current_path()
    set_boxes(panel, [Box(5, 5, 30, 30, "circle"), Box(40, 8, 60, 30, "triangle")])
    key(qtbot, panel, Qt.Key_D)
    assert panel.current_path() != first
    set_boxes(panel, [])
    key(qtbot, panel, Qt.Key_D, Qt.ControlModifier)
    assert [b.label for b in panel.annotation().boxes] == ["circle", "triangle"]
    key(qtbot, panel, Qt.Key_D, Qt.ControlModifier)  # copying twice adds no duplicates
    assert len(panel.annotation().boxes) == 2
    assert not panel.annotation().verified
    key(qtbot, panel, Qt.Key_Space)
    assert panel.annotation().verified
    key(qtbot, panel, Qt.Key_Space)
    assert not panel.annotation().verified
    key(qtbot, panel, Qt.Key_A)
    assert panel.current_path() == first


def test_next_unlabelled_skips_labelled_images(qtbot, panel):
    paths = panel.browser.model.paths()
    target = paths[5]
    for p in paths[1:5] + paths[6:]:
        assert panel.project.has_labels(p)  # demo labels every image
    panel.project.label_path(target).unlink()
    panel.browser.model.forget(target)
    key(qtbot, panel, Qt.Key_U)
    assert panel.current_path() == target


def test_predicted_boxes_look_different_until_accepted(qtbot, panel):
    set_boxes(panel, [Box(10, 10, 40, 40, "circle", predicted=True, score=0.87),
                      Box(50, 50, 80, 80, "square")])
    items = panel.canvas.items_()
    assert items[0].predicted and not items[1].predicted
    assert "0.87" in panel.boxes.list.item(0).text()
    row = panel.browser.model.row_of(panel.current_path())
    assert panel.browser.model.info(row).predicted == 1
    key(qtbot, panel, Qt.Key_Return)
    assert not any(b.predicted for b in panel.annotation().boxes)
    assert not panel.canvas.items_()[0].predicted
    assert panel.browser.model.info(row).predicted == 0


def test_moving_a_predicted_box_accepts_it(qtbot, panel):
    set_boxes(panel, [Box(10, 10, 40, 40, "circle", predicted=True, score=0.5)])
    drag(qtbot, panel, (25, 25), (30, 30))
    b = panel.annotation().boxes[0]
    assert not b.predicted and b.score is None


def test_ctrl_wheel_zooms_around_the_cursor(qtbot, panel):
    canvas = panel.canvas
    anchor_img = QPointF(30, 40)
    pos = canvas.mapFromScene(anchor_img)
    zoom = canvas.zoom()
    qtbot.mouseMove(canvas.viewport(), pos)
    event = QWheelEvent(QPointF(pos), QPointF(canvas.viewport().mapToGlobal(pos)), QPoint(0, 0),
                        QPoint(0, 240), Qt.NoButton, Qt.ControlModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(canvas.viewport(), event)
    assert canvas.zoom() == pytest.approx(zoom * 1.25 ** 2, rel=1e-3)
    after = canvas.mapToScene(pos)
    assert after.x() == pytest.approx(anchor_img.x(), abs=1.0)
    assert after.y() == pytest.approx(anchor_img.y(), abs=1.0)
    key(qtbot, panel, Qt.Key_Minus)
    assert canvas.zoom() == pytest.approx(zoom * 1.25 ** 2 * 0.8, rel=1e-3)
    key(qtbot, panel, Qt.Key_F)
    assert canvas.zoom() == pytest.approx(zoom, rel=1e-3)


def test_middle_drag_pans_when_zoomed(qtbot, panel):
    canvas = panel.canvas
    for _ in range(4):
        canvas.zoom_by(1.25)
    before = canvas.mapToScene(canvas.viewport().rect().center())
    viewport = canvas.viewport()
    qtbot.mousePress(viewport, Qt.MiddleButton, pos=QPoint(300, 300))
    qtbot.mouseMove(viewport, QPoint(250, 260))
    qtbot.mouseRelease(viewport, Qt.MiddleButton, pos=QPoint(250, 260))
    after = canvas.mapToScene(canvas.viewport().rect().center())
    assert after.x() > before.x() and after.y() > before.y()


def test_space_drag_pans_without_verifying(qtbot, panel):
    canvas = panel.canvas
    for _ in range(4):
        canvas.zoom_by(1.25)
    verified = panel.annotation().verified
    before = canvas.mapToScene(canvas.viewport().rect().center())
    qtbot.keyPress(canvas, Qt.Key_Space)
    viewport = canvas.viewport()
    qtbot.mousePress(viewport, Qt.LeftButton, pos=QPoint(300, 300))
    qtbot.mouseMove(viewport, QPoint(260, 250))
    qtbot.mouseRelease(viewport, Qt.LeftButton, pos=QPoint(260, 250))
    qtbot.keyRelease(canvas, Qt.Key_Space)
    after = canvas.mapToScene(canvas.viewport().rect().center())
    assert after.x() > before.x() and after.y() > before.y()
    assert panel.annotation().verified == verified


def test_number_key_relabels_a_mixed_selection_even_for_the_current_class(qtbot, panel):
    set_boxes(panel, [Box(5, 5, 30, 30, "circle"), Box(40, 40, 70, 70, "square")])
    classes = panel.project.classes
    panel.classes.set_current_class(classes[0])
    panel.canvas.select([0, 1])
    key(qtbot, panel, Qt.Key_1)
    assert [b.label for b in panel.annotation().boxes] == [classes[0], classes[0]]


def test_undo_button_keeps_its_text_and_tells_what_it_undoes(qtbot, panel):
    undo = panel.actions["undo"]
    assert not undo.isEnabled()
    key(qtbot, panel, Qt.Key_W)
    drag(qtbot, panel, (10, 10), (40, 40))
    assert undo.isEnabled() and undo.text() == "Undo"
    assert panel.classes.current_class() in undo.toolTip()
    panel.step(1)  # each image has its own history
    assert not undo.isEnabled()
    panel.step(-1)
    assert undo.isEnabled()


def test_copying_a_box_of_an_unknown_class_adds_the_class(qtbot, panel):
    first = panel.current_path()
    ann = panel.annotation()
    panel.store.apply(ImageAnnotation(first, ann.width, ann.height, [Box(1, 1, 20, 20, "kite")]))
    panel.store.flush()
    assert "kite" in [panel.classes.list.item(i).text() for i in range(panel.classes.list.count())]
    assert "kite" in [panel.browser.class_box.itemText(i) for i in range(panel.browser.class_box.count())]


def test_right_click_selects_the_box_and_its_menu_sets_the_class(qtbot, panel):
    set_boxes(panel, [Box(10, 10, 40, 40, "circle"), Box(50, 50, 80, 80, "circle")])
    pos = vp(panel, 65, 65)
    qtbot.mousePress(panel.canvas.viewport(), Qt.RightButton, pos=pos)
    qtbot.mouseRelease(panel.canvas.viewport(), Qt.RightButton, pos=pos)
    assert panel.canvas.selected_indices() == [1]
    menu = panel.context_menu()
    assert "Delete" in [a.text() for a in menu.actions()]
    set_class = next(a.menu() for a in menu.actions() if a.text() == "Set class")
    next(a for a in set_class.actions() if a.text().startswith("triangle")).trigger()
    assert [b.label for b in panel.annotation().boxes] == ["circle", "triangle"]


def test_arrow_keys_nudge_the_selected_box_in_one_undo_step(qtbot, panel):
    set_boxes(panel, [Box(10, 10, 40, 40, "circle")])
    panel.canvas.select([0])
    key(qtbot, panel, Qt.Key_Right)
    key(qtbot, panel, Qt.Key_Right, Qt.ShiftModifier)
    key(qtbot, panel, Qt.Key_Up)
    assert panel.annotation().boxes[0].xyxy() == (21, 9, 51, 39)
    for _ in range(5):
        key(qtbot, panel, Qt.Key_Up, Qt.ShiftModifier)  # stops at the top edge
    assert panel.annotation().boxes[0].xyxy() == (21, 0, 51, 30)
    key(qtbot, panel, Qt.Key_Z, Qt.ControlModifier)
    assert panel.annotation().boxes[0].xyxy() == (10, 10, 40, 40)


def test_arrow_keys_in_the_image_list_still_move_through_images(qtbot, panel):
    first = panel.current_path()
    panel.browser.view.setFocus()
    qtbot.keyClick(panel.browser.view, Qt.Key_Down)
    assert panel.current_path() != first
