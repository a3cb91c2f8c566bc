"""The labeller as a new user meets it in the first hour (issue 18, review gui-walk-2026-12-01).

Each test drives the real widgets the way a click or a key does.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
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
