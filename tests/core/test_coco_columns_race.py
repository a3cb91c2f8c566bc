"""The Anchors panel reads a COCO dataset's box columns on a worker while the labeller saves.

A save replaces the columns one by one on the GUI thread; a read in between
mixed old and new columns (and cached the mix as the box states behind the
class filter). The read and the save's update now hold one lock: a save that
lands during a read waits for it, the read sees the file as it was before the
save, and the next read sees the save.
"""
from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np

from yolo_studio.core.annotations import Box
from yolo_studio.core.datasets import box_table as box_table_module
from yolo_studio.core.project import Project

sys.path.insert(0, str(Path(__file__).parent))
from layout_fixtures import synthetic_coco  # noqa: E402


def _boxes(table) -> int:
    return int(len(table.cls))


def test_a_save_during_a_box_table_read_waits_and_the_read_is_consistent(tmp_path, monkeypatch):
    project = Project.open(synthetic_coco(tmp_path / "ds"))
    before = _boxes(project.box_table())
    image = next(p for p in project.image_paths() if len(project.load_annotation(p).boxes) >= 2)

    inside, release = threading.Event(), threading.Event()
    real_build = box_table_module.BoxTable.build

    def slow_build(*args, **kwargs):            # the read has taken the columns; hold it here
        inside.set()
        assert release.wait(10)
        return real_build(*args, **kwargs)

    ann = project.load_annotation(image)      # (a read of one image waits for a table read too)
    ann.boxes.append(ann.boxes[0].moved(x1=1.0, y1=1.0, x2=9.0, y2=9.0, ref=None))
    monkeypatch.setattr(box_table_module.BoxTable, "build", staticmethod(slow_build))
    read: dict = {}
    worker = threading.Thread(target=lambda: read.update(table=project.box_table()))
    worker.start()
    assert inside.wait(10)

    saver = threading.Thread(target=project.save_annotation, args=(ann,))
    saver.start()
    saver.join(0.5)
    assert saver.is_alive(), "the save replaced the columns while a read of them was under way"
    release.set()
    worker.join(10)
    saver.join(10)
    assert not worker.is_alive() and not saver.is_alive()

    assert _boxes(read["table"]) == before               # the read saw the file before the save
    monkeypatch.setattr(box_table_module.BoxTable, "build", real_build)
    after = project.box_table()
    assert _boxes(after) == before + 1                   # and the next read sees the save
    fresh = Project.open(tmp_path / "ds").box_table()
    assert np.array_equal(np.sort(after.cls), np.sort(fresh.cls))


def test_the_class_filter_is_not_torn_by_a_save_on_a_worker_thread(tmp_path, monkeypatch):
    """The labeller's class filter (GUI thread) while a Pre-label or Suggest worker saves: the
    filter's states and its row columns come from one side of the save, never both (an
    IndexError, 'boolean index did not match', when they did not)."""
    project = Project.open(synthetic_coco(tmp_path / "ds"))
    layout = project.dataset
    image = project.image_paths()[0]
    name = project.classes[0]
    before = layout.images_with_class(name).copy()
    real = type(layout)._box_states
    inside, release = threading.Event(), threading.Event()

    def states_then_pause(self):
        out = real(self)
        inside.set()
        assert release.wait(10)
        return out

    ann = project.load_annotation(image)
    ann.boxes.append(Box(1.0, 1.0, 9.0, 9.0, name))
    monkeypatch.setattr(type(layout), "_box_states", states_then_pause)
    result: dict = {}
    reader = threading.Thread(target=lambda: result.update(has=layout.images_with_class(name)))
    reader.start()
    assert inside.wait(10)
    saver = threading.Thread(target=project.save_annotation, args=(ann,))
    saver.start()
    saver.join(0.5)
    assert saver.is_alive(), "the save replaced the columns while the class filter read them"
    release.set()
    reader.join(10)
    saver.join(10)
    assert np.array_equal(result["has"], before)
    monkeypatch.setattr(type(layout), "_box_states", real)
    assert layout.images_with_class(name)[project.image_paths().index(image)]
