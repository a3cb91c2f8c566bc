"""The image list's filter proxy: shown rows, order, and what it keeps across a change."""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QListView

sys.path.insert(0, str(Path(__file__).parents[1] / "core"))
from layout_fixtures import synthetic_coco  # noqa: E402

from yolo_studio.core.project import Project  # noqa: E402
from yolo_studio.gui.labeller.image_filter import ImageFilter  # noqa: E402
from yolo_studio.gui.labeller.image_list import LABELLED, NONE, ImageListModel  # noqa: E402


def _list(qtbot, tmp_path):
    project = Project.open(synthetic_coco(tmp_path / "ds"))
    model, proxy, view = ImageListModel(), ImageFilter(), QListView()
    model.set_project(project)
    proxy.setSourceModel(model)
    view.setModel(proxy)
    qtbot.addWidget(view)
    return project, model, proxy, view


def _shown(model, proxy):
    return [model.path(proxy.mapToSource(proxy.index(r, 0)).row()).name for r in range(proxy.rowCount())]


def test_filters_by_name_state_and_class_and_ranks_first(qtbot, tmp_path):
    project, model, proxy, _view = _list(qtbot, tmp_path)
    names = [p.name for p in project.image_paths()]
    proxy.set_filter(text="00000000001")
    assert _shown(model, proxy) == [n for n in names if "00000000001" in n]
    proxy.set_filter(state=NONE)              # the three images without boxes, read to know it
    assert _shown(model, proxy) == names[-3:]
    with_car = [p.name for p in project.image_paths() if "car" in project.load_annotation(p).labels()]
    proxy.set_filter(state=LABELLED, cls="car")
    assert _shown(model, proxy) == with_car
    proxy.set_filter()
    proxy.sort_by_rank({5: 0, 2: 1})
    assert _shown(model, proxy)[:3] == [names[5], names[2], names[0]] and len(_shown(model, proxy)) == len(names)
    assert proxy.mapFromSource(model.index(5)).row() == 0


def test_the_current_image_stays_current_and_an_edit_repaints_its_row(qtbot, tmp_path):
    project, model, proxy, view = _list(qtbot, tmp_path)
    car = next(r for r, p in enumerate(model.paths()) if "car" in project.load_annotation(p).labels())
    view.setCurrentIndex(proxy.mapFromSource(model.index(car)))
    proxy.set_filter(cls="car")
    assert model.path(proxy.mapToSource(view.currentIndex()).row()) == model.path(car)
    changed = []
    proxy.dataChanged.connect(lambda top, bottom, roles=(): changed.append((top.row(), bottom.row())))
    ann = project.load_annotation(model.path(car))
    ann.boxes = []
    model.update_annotation(ann)
    row = proxy.mapFromSource(model.index(car)).row()
    assert changed == [(row, row)] and row >= 0       # still shown until the filters change
    proxy.set_filter(cls="car")
    assert proxy.mapFromSource(model.index(car)).row() == -1 and not view.currentIndex().isValid()
