"""The Training panel's evaluation goes on past an image whose header lies (review row 56)."""
from __future__ import annotations

from yolo_studio.core.model import ModelSpec, build_model, save_checkpoint
from yolo_studio.core.project import Project
from yolo_studio.gui.training.worker import EvalWorker


def test_eval_worker_skips_a_forged_60000_px_image(qtbot, demo_copy, tmp_path, forge_header_size):
    project = Project.open(demo_copy)
    classes = list(project.classes)
    save_checkpoint(build_model("yolov3-tiny", len(classes), 64),
                    ModelSpec("yolov3-tiny", len(classes), 64, class_names=classes), tmp_path / "m")
    _, val = project.split()
    labelled = [p for p in val if project.has_labels(p)]
    forge_header_size(labelled[0], 60000, 60000)
    worker = EvalWorker(project, str(tmp_path / "m"))
    results = []
    worker.done.connect(results.append)
    worker.work()
    assert len(results) == 1
    assert sum(results[0].num_ground_truth.values()) > 0
