"""The first open of a COCO dataset writes its column cache on a thread of its own.

The person sees the images without waiting for the write; whatever order the
write and a save land in, the next open shows the saved boxes.
"""
from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
from layout_fixtures import synthetic_coco

from yolo_studio.core.datasets import coco_index
from yolo_studio.core.project import Project

JSON = "annotations/instances_train2017.json"


@pytest.fixture
def walked(monkeypatch):
    """The names of the files walked (not read from the cache) from now on."""
    names, real = [], coco_index.parse
    monkeypatch.setattr(coco_index, "parse", lambda f: names.append(f.name) or real(f))
    return names


def _held(monkeypatch, name: str) -> threading.Event:
    """An event that holds the cache's own thread at ``coco_index.<name>`` until it is set."""
    gate, real = threading.Event(), getattr(coco_index, name)

    def held(*args):
        if threading.current_thread().name == "coco column cache":
            assert gate.wait(20), "the test never let the cache write go"
        return real(*args)
    monkeypatch.setattr(coco_index, name, held)
    return gate


def _moved(project: Project) -> tuple:
    """Move the first box of the first image that has one by 3 px and save; (image, new x1)."""
    path = next(p for p in project.image_paths() if project.load_annotation(p).boxes)
    ann = project.load_annotation(path)
    box = ann.boxes[0]
    ann.boxes[0] = box.moved(x1=box.x1 + 3, x2=box.x2 + 3)
    project.save_annotation(ann)
    return path, box.x1 + 3


def test_the_first_open_shows_its_images_before_the_cache_is_written(tmp_path, monkeypatch, walked):
    root = synthetic_coco(tmp_path / "ds", n_images=12)
    gate = _held(monkeypatch, "_write_cache")
    project = Project.open(root)
    paths = project.image_paths()
    boxes = [project.load_annotation(p).boxes for p in paths]       # the open is usable now
    assert sum(map(len, boxes)) > 20
    assert not coco_index._cache_file(root / JSON).exists()
    gate.set()
    again = Project.open(root)                    # waits for the write, then reads it
    assert walked == ["instances_train2017.json"]
    assert [again.load_annotation(p).boxes for p in again.image_paths()] == boxes


def test_a_save_before_the_cache_write_starts_is_what_the_next_open_shows(tmp_path, monkeypatch, walked):
    root = synthetic_coco(tmp_path / "ds", n_images=12)
    gate = _held(monkeypatch, "_write")
    path, x1 = _moved(Project.open(root))      # the save stores its columns; the first open's wait
    gate.set()
    coco_index.wait_stored(root / JSON)        # the first open's columns: overtaken, not written
    again = Project.open(root)
    assert walked == ["instances_train2017.json"]      # the first open's walk only: the cache is used
    assert again.load_annotation(path).boxes[0].x1 == pytest.approx(x1)


def test_a_save_while_the_cache_is_being_written_is_what_the_next_open_shows(tmp_path, monkeypatch, walked):
    root = synthetic_coco(tmp_path / "ds", n_images=12)
    gate = _held(monkeypatch, "_write_cache")
    project = Project.open(root)               # its write is under way (held inside)
    saved = []
    saving = threading.Thread(target=lambda: saved.append(_moved(project)))
    saving.start()
    target = coco_index._cache_file(root / JSON)
    for _ in range(2000):                      # until the save has asked for its store
        if coco_index._asked.get(target) == 2 or not saving.is_alive():
            break
        time.sleep(0.005)
    gate.set()
    saving.join(20)
    (path, x1), = saved
    again = Project.open(root)
    assert walked == ["instances_train2017.json"]
    assert again.load_annotation(path).boxes[0].x1 == pytest.approx(x1)


def test_columns_from_before_a_save_stored_last_are_never_shown(tmp_path, walked):
    # Should a write of the first open's columns ever land after a save's, the stamp in it
    # (size, modification and change time of the file before the save) keeps it from being used.
    root = synthetic_coco(tmp_path / "ds", n_images=12)
    project = Project.open(root)
    coco_index.wait_stored(root / JSON)
    before = dict(project.dataset._files[0])
    path, x1 = _moved(project)
    coco_index.store(root / JSON, before)
    again = Project.open(root)
    assert walked == ["instances_train2017.json", "instances_train2017.json"]
    assert again.load_annotation(path).boxes[0].x1 == pytest.approx(x1)


def test_a_process_that_ends_right_after_the_first_open_leaves_the_cache(tmp_path, walked):
    root = synthetic_coco(tmp_path / "ds", n_images=12)
    code = ("import sys, time; from yolo_studio.core.datasets import coco_index as c\n"
            "write = c._write_cache\n"     # a slow disk: the write is still going when the program ends
            "c._write_cache = lambda *a: time.sleep(0.5) or write(*a)\n"
            "from yolo_studio.core.project import Project; Project.open(sys.argv[1])")
    subprocess.run([sys.executable, "-c", code, str(root)], check=True, timeout=120)
    project = Project.open(root)
    assert walked == [] and len(project.image_paths()) == 12
