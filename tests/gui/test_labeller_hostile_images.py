"""The labeller on images whose header lies about their size (review rows 56 and 116)."""
from __future__ import annotations

from PySide6.QtCore import Qt

from yolo_studio.core.project import Project
from yolo_studio.gui.context import AppContext
from yolo_studio.gui.labeller.image_list import BROKEN
from yolo_studio.gui.labeller.panel import LabellerPanel


def _panel(qtbot, root):
    panel = LabellerPanel(AppContext(Project.open(root)))
    qtbot.addWidget(panel)
    panel.resize(1000, 650)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def test_forged_60000_px_jpeg_is_marked_unreadable_with_the_readers_message(qtbot, demo_copy,
                                                                             forge_header_size):
    images = sorted((demo_copy / "images").glob("*.jpg"))
    liar, label = images[1], images[1].with_suffix(".xml")
    label_before = label.read_bytes()
    forge_header_size(liar, 60000, 60000)
    panel = _panel(qtbot, demo_copy)
    panel.step(1)          # the prefetcher has already tried it in the background
    assert panel.current_path() == liar
    message = panel.canvas.message()
    assert liar.name in message and "60000x60000" in message and "cannot be shown" in message
    assert not panel.canvas.has_image()
    model = panel.browser.model
    row = model.row_of(liar)
    assert model.info(row).state == BROKEN
    assert "60000x60000" in model.data(model.index(row), Qt.ToolTipRole)
    qtbot.keyClick(panel.canvas, Qt.Key_Space)     # verifying does nothing to an unreadable image
    panel.step(1)
    assert panel.canvas.has_image() and panel.annotation() is not None
    panel.show_image(liar)                          # opened directly, not prefetched
    assert liar.name in panel.canvas.message() and not panel.canvas.has_image()
    assert label.read_bytes() == label_before       # its labels are left as they were
