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

    monkeypatch.setattr(box_table_module.BoxTable, "build", staticmethod(slow_build))
    read: dict = {}
    worker = threading.Thread(target=lambda: read.update(table=project.box_table()))
    worker.start()
    assert inside.wait(10)

    ann = project.load_annotation(image)
    ann.boxes.append(ann.boxes[0].moved(x1=1.0, y1=1.0, x2=9.0, y2=9.0, ref=None))
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
