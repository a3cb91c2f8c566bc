"""Train, evaluate and fit anchors on an ultralytics dataset in place, without converting it."""
from __future__ import annotations

import pytest

from yolo_studio.cli import main
from yolo_studio.core.demo import generate_demo_project
from yolo_studio.core.formats.dataset import export_project
from yolo_studio.core.project import Project
from yolo_studio.core.training import runs

FAST = ["--model", "yolov3-tiny", "--size", "64", "--batch", "6", "--lr", "1e-3", "--warmup", "0.5",
        "--no-augment"]


@pytest.mark.slow   # a real (tiny) training run: ~20-50 s on two shared cores
def test_train_eval_and_anchors_on_a_data_yaml(tmp_path, capsys):
    demo = generate_demo_project(tmp_path / "demo", n_images=20, seed=4, min_size=64, max_size=112)
    export_project(Project.open(demo), "ultralytics", tmp_path / "ds")
    data_yaml = tmp_path / "ds" / "data.yaml"
    labels = {p: p.read_bytes() for p in (tmp_path / "ds" / "labels").rglob("*.txt")}
    project = Project.open(data_yaml)
    train, val = project.split()
    assert main(["train", str(data_yaml), "--epochs", "1", *FAST]) == 0
    out = capsys.readouterr().out
    assert f"on {len(train)} images ({len(val)} for validation)" in out and "mAP@0.5" in out
    best = runs.run_checkpoint(runs.list_runs(Project.open(data_yaml))[-1].path, "best")
    assert main(["eval", str(data_yaml), "--weights", f"{best}.weights.h5"]) == 0
    assert "mAP@0.5" in capsys.readouterr().out
    assert main(["anchors", str(data_yaml), "--model", "yolov3-tiny", "--size", "64"]) == 0
    assert "anchors" in capsys.readouterr().out.lower()
    assert {p: p.read_bytes() for p in (tmp_path / "ds" / "labels").rglob("*.txt")} == labels
