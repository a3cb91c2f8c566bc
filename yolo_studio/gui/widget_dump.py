"""For scripted walks (scripts/gui_walk.py): where the widgets are on screen, as JSON.

Off unless ``YOLO_STUDIO_WIDGET_DUMP`` names a file. Then, a few times a second,
the app writes the global geometry and text of its visible widgets, the windows
(dialogs included) and a little state (image on screen, preview model) to that
file, so a walk driven by xdotool clicks where the widgets really are, not at
guessed coordinates. Written atomically: a reader never sees half a file.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from PySide6.QtCore import QObject, QPoint, QPointF, QTimer
from PySide6.QtWidgets import (QAbstractButton, QAbstractItemView, QAbstractSlider, QApplication,
                               QComboBox, QGraphicsView, QLabel, QLineEdit, QTabBar, QWidget)

ENV = "YOLO_STUDIO_WIDGET_DUMP"
INTERVAL_MS = 150
_KINDS = (QAbstractButton, QLineEdit, QComboBox, QTabBar, QAbstractItemView, QGraphicsView,
          QAbstractSlider)


def _rect(w: QWidget) -> dict:
    p = w.mapToGlobal(QPoint(0, 0))
    return {"x": p.x(), "y": p.y(), "w": w.width(), "h": w.height()}


def _text(w: QWidget) -> str:
    if isinstance(w, (QAbstractButton, QLabel, QLineEdit)):
        return w.text()[:300]
    if isinstance(w, QComboBox):
        return w.currentText()[:300]
    return ""


def _widget(w: QWidget, window: QWidget) -> dict:
    d = {"cls": type(w).__name__, "name": w.objectName(), "text": _text(w),
         "window": window.windowTitle(), "enabled": w.isEnabled(), **_rect(w)}
    if isinstance(w, QAbstractButton) and w.isCheckable():
        d["checked"] = w.isChecked()
    if isinstance(w, QTabBar):
        d["tabs"] = [{"text": w.tabText(i), **_tab_rect(w, i)} for i in range(w.count())]
        d["current"] = w.currentIndex()
    if isinstance(w, QComboBox):
        d["items"] = [w.itemText(i) for i in range(w.count())]
    return d


def _tab_rect(bar: QTabBar, i: int) -> dict:
    r = bar.tabRect(i)
    p = bar.mapToGlobal(r.topLeft())
    return {"x": p.x(), "y": p.y(), "w": r.width(), "h": r.height()}


def snapshot(main_window) -> dict:
    """Everything a walk needs to know now."""
    windows, widgets = [], []
    for top in QApplication.topLevelWidgets():
        if not top.isVisible():
            continue
        windows.append({"title": top.windowTitle(), "cls": type(top).__name__,
                        "name": top.objectName(), "modal": top.isModal(), **_rect(top)})
        for w in top.findChildren(QWidget):
            if w.isVisible() and (isinstance(w, _KINDS) or w.objectName()
                                  or (isinstance(w, QLabel) and w.text())):
                widgets.append(_widget(w, top))
    return {"windows": windows, "widgets": widgets, "state": _state(main_window)}


def _state(win) -> dict:
    lab = win.labeller
    canvas = lab.canvas
    origin = canvas.viewport().mapToGlobal(canvas.mapFromScene(QPointF(0, 0)))
    ann = lab.annotation()
    state = {"title": win.windowTitle(), "location": win.location.text(),
             "image": str(lab.current_path() or ""), "tab": win.tabs.currentIndex(),
             "canvas": {"x0": origin.x(), "y0": origin.y(), "scale": canvas.zoom()},
             "boxes": [[b.label, *b.xyxy()] for b in ann.boxes] if ann is not None else [],
             "selected": canvas.selected_indices(), "drawing": canvas.is_drawing(),
             "status": win.statusBar().currentMessage()}
    preview = win.panels[3]
    detector = getattr(preview, "detector", None)
    state["preview"] = {"running": preview.is_running(), "paused": preview.is_paused(),
                        "frames": preview.stats.frames_shown,
                        "classes": list(getattr(detector, "class_names", []) or []),
                        "message": preview.message_label.text()}
    anchors = win.panels[1]
    state["anchors"] = {"points": _anchor_points(anchors), "selected": anchors._selected,
                        "thumbnail": not anchors.thumb.pixmap().isNull()}
    return state


def _anchor_points(anchors) -> list:
    """Global positions of a few well separated points of the anchors scatter."""
    r = anchors.result
    if r is None or not len(r.wh) or not anchors.isVisible():
        return []
    import numpy as np
    wh = np.asarray(r.wh, dtype=float)
    d = np.linalg.norm(wh[:, None] - wh[None], axis=2) + np.eye(len(wh)) * 1e9
    order = np.argsort(-d.min(axis=1))[:3]
    plot = anchors.plot
    vb = plot.getPlotItem().vb
    out = []
    for i in order:
        x, y = plot._xy(wh[i])
        p = plot.viewport().mapToGlobal(plot.mapFromScene(vb.mapViewToScene(QPointF(x[0], y[0]))))
        out.append({"index": int(i), "x": p.x(), "y": p.y(), "image": str(r.refs[i][0]),
                    "box": int(r.refs[i][1])})
    return out


class WidgetDump(QObject):
    """Writes :func:`snapshot` to ``path`` every INTERVAL_MS."""

    def __init__(self, main_window, path: str):
        super().__init__(main_window)
        self.window, self.path = main_window, Path(path)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.write)
        self.timer.start(INTERVAL_MS)

    def write(self) -> None:
        try:
            data = json.dumps(snapshot(self.window))
        except RuntimeError:   # a widget deleted mid-walk: the next tick sees the new state
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(data, encoding="utf-8")
        os.replace(tmp, self.path)


def install_if_asked(main_window) -> WidgetDump | None:
    """Start the dump when the environment asks for it."""
    path = os.environ.get(ENV)
    return WidgetDump(main_window, path) if path else None
