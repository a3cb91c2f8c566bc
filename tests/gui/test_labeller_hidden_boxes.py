"""Boxes the labeller cannot show (#9, #23, #116): a banner names them and no edit drops them."""
from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt

from yolo_studio.core.project import Project
from yolo_studio.gui.context import AppContext
from yolo_studio.gui.labeller.class_list import validate_class_name
from yolo_studio.gui.labeller.panel import LabellerPanel

SWAPPED = ("<object><name>cat</name><bndbox><xmin>150</xmin><ymin>10</ymin><xmax>20</xmax>"
           "<ymax>90</ymax></bndbox></object>")


def make_panel(qtbot, root):
    panel = LabellerPanel(AppContext(Project.open(root)))
    qtbot.addWidget(panel)
    panel.resize(1000, 650)
    panel.show()
    qtbot.waitExposed(panel)
    panel.canvas.setFocus()
    return panel


def test_a_box_that_cannot_be_shown_gets_a_banner_and_survives_edits(qtbot, tmp_path):
    project = Project.create(tmp_path / "p", ["cat"])
    images = project.image_dirs[0]
    for name in ("a", "b"):
        cv2.imwrite(str(images / f"{name}.jpg"), np.full((100, 200, 3), 128, np.uint8))
    (images / "a.xml").write_text(
        "<annotation><size><width>200</width><height>100</height></size>" + SWAPPED +
        "<object><name>cat</name><bndbox><xmin>10</xmin><ymin>10</ymin><xmax>50</xmax><ymax>50</ymax>"
        "</bndbox></object></annotation>")
    panel = make_panel(qtbot, project.root)
    assert panel.current_path().name == "a.jpg"
    assert panel.banner.isVisible()
    text = panel.banner.text()
    assert "1 box(es) in a.xml cannot be shown" in text and "zero or negative size" in text
    assert len(panel.annotation().boxes) == 1
    panel.canvas.boxDrawn.emit(QRectF(QPointF(60, 20), QPointF(90, 60)))   # an edit
    qtbot.keyClick(panel.canvas, Qt.Key_Space)                             # verify
    panel.store.flush()
    xml = (images / "a.xml").read_text()
    assert SWAPPED in xml and xml.count("<object>") == 3 and 'verified="yes"' in xml
    panel.step(1)                                          # an image without problems: no banner
    assert panel.current_path().name == "b.jpg" and not panel.banner.isVisible()


def test_the_class_name_rule_is_the_cores():
    assert validate_class_name("dog", ["cat"]) == ""
    assert "control characters" in validate_class_name("a\x0bb", ["cat"])
    assert "spaces" in validate_class_name(" dog", ["cat"])
    assert "already" in validate_class_name("cat", ["cat"])
    assert validate_class_name("", []) != ""
