"""Shared test set-up: Qt offscreen, quiet TensorFlow, and a small demo project."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Keep user state (recent files, demo project) out of the real home folder.
os.environ.setdefault("YOLO_STUDIO_HOME", os.path.join(os.path.dirname(__file__), ".home-unused"))
# No background model conversions in tests that do not ask for a backend (each
# costs seconds); tests/core/test_runtime.py names its backends.
os.environ.setdefault("YOLO_STUDIO_BACKEND", "tensorflow")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Every test gets its own user-data folder (settings, demo project)."""
    monkeypatch.setenv("YOLO_STUDIO_HOME", str(tmp_path / "yolo-studio-home"))


@pytest.fixture(scope="session")
def small_demo_project(tmp_path_factory):
    """A 48-image demo project (VOC labels) shared read-only by tests; copy it to modify."""
    from yolo_studio.core.demo import generate_demo_project

    root = tmp_path_factory.mktemp("demo") / "demo"
    generate_demo_project(root, n_images=48, seed=1, min_size=96, max_size=192)
    return root


@pytest.fixture
def demo_copy(small_demo_project, tmp_path):
    """A private, writable copy of the small demo project."""
    import shutil

    dst = tmp_path / "demo"
    shutil.copytree(small_demo_project, dst)
    return dst


def _forge_header_size(path, w, h):
    """Rewrite the size a real JPEG's SOF or PNG's IHDR claims, leaving the pixels alone."""
    import struct
    import zlib
    from pathlib import Path

    path = Path(path)
    raw = bytearray(path.read_bytes())
    if raw.startswith(b"\x89PNG"):
        raw[16:24] = struct.pack(">II", w, h)
        raw[29:33] = struct.pack(">I", zlib.crc32(bytes(raw[12:29])))   # keep the CRC valid
    else:
        i = raw.find(b"\xff\xc0")
        if i < 0:
            i = raw.find(b"\xff\xc2")
        raw[i + 5:i + 9] = struct.pack(">HH", h, w)
    path.write_bytes(bytes(raw))


@pytest.fixture
def forge_header_size():
    """``forge(path, w, h)``: make an image's header lie about its size (review row 56)."""
    return _forge_header_size


@pytest.fixture(scope="session")
def trained_tiny(tmp_path_factory):
    """(project root, checkpoint stem): YOLOv3-tiny trained here for one epoch at 128 px.

    Real training on a 24-image demo project (~15 s on 2 cores), shared by the
    tests that need a trained net's outputs (backend parity, darknet export).
    """
    from yolo_studio.core.demo import generate_demo_project
    from yolo_studio.core.project import Project
    from yolo_studio.core.training.events import TrainConfig
    from yolo_studio.core.training.trainer import Trainer

    root = tmp_path_factory.mktemp("trained") / "demo"
    generate_demo_project(root, n_images=24, seed=1, min_size=64, max_size=128)
    config = TrainConfig(model="yolov3-tiny", input_size=128, batch_size=8, epochs=1, warmup_epochs=0.5,
                         augment=False, map_every=5, ema_decay=0, precision="float32")
    end = Trainer(Project.open(root), config).run()
    assert end.reason == "finished", end.message
    return root, end.last_checkpoint
