"""One checkpoint, one mAP: `yolo-studio eval` and the Train panel's evaluation agree.

They used to score at different thresholds (0.001 vs 0.01) and over different
classes, so the same weights got two mAPs depending on where a user asked.
"""
from __future__ import annotations

import re

import pytest

from yolo_studio.cli import main
from yolo_studio.core.defaults import EVAL_SCORE_THRESHOLD
from yolo_studio.core.project import Project
from yolo_studio.core.training.events import TrainConfig
from yolo_studio.core.training.trainer import Trainer
from yolo_studio.gui.training.worker import EvalWorker


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from yolo_studio.core.demo import generate_demo_project

    root = tmp_path_factory.mktemp("agree") / "demo"
    generate_demo_project(root, n_images=24, seed=2, min_size=64, max_size=128)
    config = TrainConfig(model="yolov3-tiny", input_size=64, batch_size=6, epochs=3, lr_init=2e-3,
                         warmup_epochs=0.5, augment=False)
    end = Trainer(Project.open(root), config).run()
    assert end.reason == "finished", end
    return root, end


def test_eval_cli_and_the_panels_evaluation_report_the_same_map(trained, capsys):
    root, end = trained
    weights = next((root / "runs").glob("*/weights/last.weights.h5"))
    assert main(["eval", str(root), "--weights", str(weights)]) == 0
    out = capsys.readouterr().out
    cli = {k: float(v) for k, v in re.findall(r"(mAP@0\.5|mAP@\[\.5:\.95\])\s+([0-9.]+)", out)}
    worker = EvalWorker(Project.open(root), str(weights))
    results = []
    worker.done.connect(results.append)
    worker.work()
    panel = results[0]
    assert cli["mAP@0.5"] == pytest.approx(round(panel.map50, 4), abs=1e-9)
    assert cli["mAP@[.5:.95]"] == pytest.approx(round(panel.map50_95, 4), abs=1e-9)
    assert sorted(panel.num_ground_truth) == sorted(Project.open(root).classes)


def test_the_trainer_scores_map_at_the_same_threshold_as_eval():
    assert TrainConfig().score_threshold == EVAL_SCORE_THRESHOLD == 0.001
