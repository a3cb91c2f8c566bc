"""`yolo-studio train` and `yolo-studio eval` end to end on a very small project."""
from __future__ import annotations

import json

import pytest

from yolo_studio.cli import main
from yolo_studio.core.project import Project
from yolo_studio.core.training import runs

FAST = ["--model", "yolov3-tiny", "--size", "64", "--batch", "6", "--lr", "1e-3", "--warmup", "0.5",
        "--no-augment"]


@pytest.fixture(scope="module")
def cli_project(tmp_path_factory):
    from yolo_studio.core.demo import generate_demo_project

    root = tmp_path_factory.mktemp("cli") / "demo"
    generate_demo_project(root, n_images=20, seed=4, min_size=64, max_size=112)
    return root


def test_train_then_eval_from_the_command_line(cli_project, capsys, tmp_path):
    assert main(["train", str(cli_project), "--epochs", "1", *FAST]) == 0
    out = capsys.readouterr().out
    assert "epoch 1/1: train loss" in out and "mAP@0.5" in out
    assert "finished" in out and "best weights:" in out
    run = runs.list_runs(Project.open(cli_project))[-1]
    assert len(run.history) == 1
    best = runs.run_checkpoint(run.path, "best")

    saved = tmp_path / "dets.json"
    assert main(["eval", str(cli_project), "--weights", f"{best}.weights.h5",
                 "--save-detections", str(saved)]) == 0
    out = capsys.readouterr().out
    assert "mAP@0.5" in out and "mAP@[.5:.95]" in out
    for name in Project.open(cli_project).classes:
        assert name in out
    results = json.loads(saved.read_text())
    assert results and {"image_id", "category_id", "bbox", "score"} <= set(results[0])


def test_train_on_a_pylessons_list(cli_project, tmp_path, capsys):
    from yolo_studio.core.formats.pylessons import write_pylessons

    project = Project.open(cli_project)
    anns, _ = project.load_all()
    lists = tmp_path / "lists"
    lists.mkdir()
    write_pylessons(anns[:14], project.classes, lists / "train.txt", lists / "demo.names")
    write_pylessons(anns[14:], project.classes, lists / "val.txt", lists / "demo.names")
    code = main(["train", str(lists / "train.txt"), "--val", str(lists / "val.txt"),
                 "--names", str(lists / "demo.names"), "--epochs", "1", *FAST])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "on 14 images (6 for validation)" in out
    assert list((lists / "runs").glob("*/weights/last.weights.h5"))


def test_bad_settings_print_one_clear_error(cli_project, capsys):
    assert main(["train", str(cli_project), "--epochs", "1", *FAST[:-5], "--batch", "999"]) == 1
    err = capsys.readouterr().err
    assert "batch size 999" in err and "Traceback" not in err
    assert main(["train", str(cli_project / "missing.txt"), "--epochs", "1"]) == 1
    assert "not found" in capsys.readouterr().err


def test_ctrl_c_stops_with_a_checkpoint_and_resume_continues(cli_project, tmp_path):
    import os
    import shutil
    import signal
    import subprocess
    import sys
    import time

    root = tmp_path / "p"
    shutil.copytree(cli_project, root, ignore=shutil.ignore_patterns("runs"))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    cmd = [sys.executable, "-m", "yolo_studio", "train", str(root), "--epochs", "50", *FAST]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    deadline = time.monotonic() + 240
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("epoch 1/50") or time.monotonic() > deadline:
            proc.send_signal(signal.SIGINT)
            break
    rest, _ = proc.communicate(timeout=120)
    out = "".join(lines) + rest
    assert proc.returncode == 130, out
    assert "stopped" in out and "last weights:" in out
    run = runs.list_runs(Project.open(root))[-1]
    assert (run.path / "weights" / "last.weights.h5").is_file()
    assert (run.path / "resume" / "checkpoint").is_file()
    assert main(["train", str(root), "--resume", "--epochs", "3", *FAST]) == 0
    assert [r["epoch"] for r in runs.read_history(run.path)] == [0, 1, 2]


def test_recipe_flags_and_the_projects_own_flip_setting(tmp_path):
    import argparse

    from yolo_studio.commands import train as train_cmd
    from yolo_studio.core.demo import generate_demo_project

    root = generate_demo_project(tmp_path / "d", n_images=2, seed=0, min_size=64, max_size=64,
                                 kind="digits")
    parser = argparse.ArgumentParser()
    train_cmd.add_parser(parser.add_subparsers(), "train")

    def config(*flags):
        args = parser.parse_args(["train", str(root), *flags])
        return train_cmd.build_config(args, Project.open(root))

    plain = config()
    assert plain.hflip is False                    # the digits project's own setting
    assert (plain.lr_init, plain.assignment, plain.prior_bias) == (1e-3, "multi", True)
    cfg = config("--hflip", "--assignment", "best", "--label-smoothing", "0.01", "--conv-init",
                 "keras", "--bn-momentum", "0.99", "--no-prior-bias", "--ema", "0",
                 "--lr-reference-batch", "8")
    assert cfg.hflip is True and cfg.assignment == "best" and cfg.label_smoothing == 0.01
    assert (cfg.conv_init, cfg.bn_momentum, cfg.prior_bias) == ("keras", 0.99, False)
    assert cfg.ema_decay == 0.0 and cfg.lr_reference_batch == 8
