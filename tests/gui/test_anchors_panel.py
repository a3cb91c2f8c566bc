"""The Anchors panel on the small demo project: run, show, apply, click through to the labeller."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from yolo_studio.core.project import Project
from yolo_studio.gui.anchors.panel import AnchorsPanel
from yolo_studio.gui.context import AppContext

TIMEOUT_MS = 30_000


def open_panel(qtbot, root):
    context = AppContext(Project.open(root))
    panel = AnchorsPanel(context)
    qtbot.addWidget(panel)
    panel.resize(1100, 700)
    panel.show()                       # showing loads the boxes on a worker thread
    qtbot.waitUntil(lambda: panel.result is not None and not panel.is_running(), timeout=TIMEOUT_MS)
    return context, panel


def run_fit(qtbot, panel):
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=TIMEOUT_MS)
    assert "fitted" in panel.result.sets, panel.status.text()


def box_count(root) -> int:
    anns, _ = Project.open(root).load_all()
    return sum(len(a.boxes) for a in anns)


def scatter_xy(item) -> np.ndarray:
    x, y = item.getData()
    return np.column_stack([x, y]) if x is not None else np.zeros((0, 2))


def test_shows_every_box_then_fitted_anchors_coloured_by_cluster(qtbot, small_demo_project):
    _, panel = open_panel(qtbot, small_demo_project)
    n = box_count(small_demo_project)
    assert len(scatter_xy(panel.plot.points)) == n > 0
    assert len(scatter_xy(panel.plot.anchor_items["COCO defaults"])) == panel.k_spin.value()
    assert len(scatter_xy(panel.plot.anchor_items["fitted"])) == 0
    assert not panel.apply_button.isEnabled()

    run_fit(qtbot, panel)
    fitted = scatter_xy(panel.plot.anchor_items["fitted"])
    np.testing.assert_allclose(fitted, panel.result.sets["fitted"])
    assert len(fitted) == panel.k_spin.value()
    brushes = {b.color().name() for b in panel.plot.points.data["brush"]}
    assert len(brushes) == len(fitted)           # one colour per cluster
    assert float(panel.metrics_table.value("mean IoU", "fitted")) > \
        float(panel.metrics_table.value("mean IoU", "COCO defaults")) + 0.1
    assert panel.apply_button.isEnabled()
    assert f"{n} boxes" in panel.status.text()


def test_apply_writes_the_anchors_into_the_project_file(qtbot, demo_copy):
    context, panel = open_panel(qtbot, demo_copy)
    panel.model_box.setCurrentText("yolov3")
    assert panel.k_spin.value() == 9
    panel.size_spin.setValue(320)
    run_fit(qtbot, panel)
    with qtbot.waitSignal(context.statusMessage, timeout=TIMEOUT_MS) as message:
        qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    assert "320" in message.args[0]
    reopened = Project.open(demo_copy)
    assert reopened.anchors_size == 320
    stored = np.array([a for g in reopened.anchors for a in g])
    np.testing.assert_allclose(stored, panel.result.sets["fitted"])
    assert [len(g) for g in reopened.anchors] == [3, 3, 3]
    # the table now compares against the project's (just applied) anchors
    assert panel.metrics_table.value("mean IoU", "current") == panel.metrics_table.value("mean IoU", "fitted")


def test_click_shows_the_image_and_double_click_asks_the_labeller_for_it(qtbot, small_demo_project):
    context, panel = open_panel(qtbot, small_demo_project)
    wh = panel.result.wh
    # the most isolated box, so the click cannot land on a neighbour
    d = np.linalg.norm(wh[:, None] - wh[None], axis=2) + np.eye(len(wh)) * 1e9
    i = int(d.min(axis=1).argmax())
    vb = panel.plot.getPlotItem().vb
    pos = panel.plot.mapFromScene(vb.mapViewToScene(QPointF(*wh[i])))
    image, box_index = panel.result.refs[i]

    plot_size = panel.plot.size()
    assert panel.thumb.pixmap().isNull()
    qtbot.mouseClick(panel.plot.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert image.name in panel.box_label.text()
    assert panel.plot.size() == plot_size   # the point stays under the cursor for the 2nd click
    assert np.allclose(scatter_xy(panel.plot.marker), [wh[i]])
    # The box is shown in its image, not only named.
    assert not panel.thumb.pixmap().isNull()
    with qtbot.waitSignal(context.showBoxRequested, timeout=5000) as jump:
        # what a real double-click delivers after the first click: double-click, then release
        qtbot.mouseDClick(panel.plot.viewport(), Qt.MouseButton.LeftButton, pos=pos)
        qtbot.mouseRelease(panel.plot.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert jump.args == [str(image), box_index]
    with qtbot.waitSignal(context.showBoxRequested, timeout=5000) as jump:
        qtbot.mouseClick(panel.show_button, Qt.MouseButton.LeftButton)
    assert jump.args == [str(image), box_index]


def test_relabelled_project_is_marked_stale_and_refit_on_the_new_boxes(qtbot, demo_copy):
    context, panel = open_panel(qtbot, demo_copy)
    before = len(panel.result.wh)
    labels = sorted((demo_copy / "images").glob("*.xml"))[:5]
    for label in labels:
        label.unlink()
    context.labelsChanged.emit([str(p) for p in labels])
    assert "Labels changed" in panel.status.text()
    run_fit(qtbot, panel)
    assert len(panel.result.wh) == box_count(demo_copy) < before


def test_cancel_keeps_the_previous_result(qtbot, small_demo_project):
    _, panel = open_panel(qtbot, small_demo_project)
    shown = panel.result
    panel.run()
    panel.cancel()
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=TIMEOUT_MS)
    assert "Cancelled" in panel.status.text()
    assert panel.result is shown and "fitted" not in shown.sets
    assert panel.run_button.isEnabled()


def test_project_without_boxes_says_so_and_never_offers_apply(qtbot, tmp_path):
    Project.create(tmp_path / "empty", ["thing"])
    _, panel = open_panel(qtbot, tmp_path / "empty")
    assert "No labelled boxes" in panel.status.text()
    assert len(scatter_xy(panel.plot.points)) == 0
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=TIMEOUT_MS)
    assert "no labelled boxes" in panel.status.text()
    assert not panel.apply_button.isEnabled()


@pytest.mark.parametrize("k, hint", [(5, "needs k = 6"), (200, "distinct box size")])
def test_k_that_cannot_be_applied_or_fitted_is_explained(qtbot, small_demo_project, k, hint):
    _, panel = open_panel(qtbot, small_demo_project)
    panel.k_spin.setMaximum(300)
    panel.k_spin.setValue(k)
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=TIMEOUT_MS)
    assert hint in panel.status.text()
    assert not panel.apply_button.isEnabled()


def test_switching_project_clears_the_view(qtbot, small_demo_project, tmp_path):
    context, panel = open_panel(qtbot, small_demo_project)
    run_fit(qtbot, panel)
    context.set_project(Project.create(tmp_path / "other", ["thing"]))
    qtbot.waitUntil(lambda: panel.result is not None and not panel.is_running(), timeout=TIMEOUT_MS)
    assert len(scatter_xy(panel.plot.points)) == 0
    assert "fitted" not in panel.result.sets


def test_coming_back_after_labelling_says_whether_the_fit_is_out_of_date(qtbot, demo_copy):
    _, panel = open_panel(qtbot, demo_copy)
    run_fit(qtbot, panel)
    panel.hide()
    panel.show()                       # nothing changed: the fit stays current
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=TIMEOUT_MS)
    assert "Labels changed" not in panel.status.text()
    panel.hide()
    for label in sorted((demo_copy / "images").glob("*.xml"))[:3]:
        label.unlink()                 # as the labeller would, without any signal
    panel.show()
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=TIMEOUT_MS)
    assert "Labels changed" in panel.status.text()
    assert "fitted" in panel.result.sets    # the fit stays on screen until the next Run


def test_log_axes_plot_log_sizes_and_hover_names_the_image(qtbot, small_demo_project):
    _, panel = open_panel(qtbot, small_demo_project)
    wh = panel.result.wh[panel.plot.shown]
    panel.log_check.setChecked(True)
    np.testing.assert_allclose(scatter_xy(panel.plot.points), np.log10(wh), rtol=1e-6)
    defaults = panel.result.sets["COCO defaults"]
    np.testing.assert_allclose(scatter_xy(panel.plot.anchor_items["COCO defaults"]), np.log10(defaults))
    panel.log_check.setChecked(False)
    np.testing.assert_allclose(scatter_xy(panel.plot.points), wh, rtol=1e-6)
    first = panel.result.refs[0][0].name
    assert first in panel.plot._tip(0, 0, 0)


def test_boxes_without_size_are_named_not_fitted(tmp_path):
    from yolo_studio.core.annotations import Box, ImageAnnotation
    from yolo_studio.core.errors import ConfigError
    from yolo_studio.core.anchor_fit import FitRequest, LoadedLabels, fit_project_anchors

    project = Project.create(tmp_path / "flat", ["thing"])
    ann = ImageAnnotation(tmp_path / "flat" / "images" / "a.jpg", 100, 80, [Box(10, 10, 10, 40, "thing")])
    with pytest.raises(ConfigError, match=r"no usable boxes; 1 were skipped.*a\.jpg.*zero"):
        fit_project_anchors(project, FitRequest("yolov3", 416, 9), labels=LoadedLabels([ann], []))
