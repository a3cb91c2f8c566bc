"""``yolo-studio anchors`` end to end on the small demo project."""
from __future__ import annotations

import re

import numpy as np
import pytest

from yolo_studio.cli import main
from yolo_studio.core.project import PROJECT_FILE, Project


def metric_row(out: str, title: str) -> list[float]:
    line = next(l for l in out.splitlines() if l.strip().startswith(title))
    return [float(x) for x in re.findall(r"\d+\.\d+", line)]


def test_prints_fitted_beside_defaults_and_leaves_project_alone(small_demo_project, capsys):
    before = (small_demo_project / PROJECT_FILE).read_bytes()
    assert main(["anchors", str(small_demo_project), "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "fitted" in out and "COCO defaults" in out and "--apply" in out
    fitted_iou, default_iou = metric_row(out, "mean best IoU")
    # demo shapes are squarish and mid-sized: COCO's thin/huge anchors fit them far worse
    assert fitted_iou > default_iou + 0.1
    assert (small_demo_project / PROJECT_FILE).read_bytes() == before


def test_apply_writes_anchors_that_the_next_run_shows_as_current(demo_copy, capsys):
    assert main(["anchors", str(demo_copy), "--size", "320", "--apply"]) == 0
    out = capsys.readouterr().out
    assert "anchors written to" in out
    project = Project.open(demo_copy)
    assert project.anchors_size == 320
    assert [len(g) for g in project.anchors] == [3, 3, 3]
    flat = np.array([a for g in project.anchors for a in g])
    areas = flat[:, 0] * flat[:, 1]
    assert np.all(np.isfinite(flat)) and np.all(np.diff(areas) >= 0)

    assert main(["anchors", str(demo_copy), "--size", "320"]) == 0
    out = capsys.readouterr().out
    fitted_iou, current_iou, _ = metric_row(out, "mean best IoU")
    assert current_iou == pytest.approx(fitted_iou, abs=0.002)


def test_tiny_model_gets_two_scales(demo_copy, capsys):
    assert main(["anchors", str(demo_copy), "--model", "yolov3-tiny", "--apply"]) == 0
    assert [len(g) for g in Project.open(demo_copy).anchors] == [3, 3]
    assert "k=6" in capsys.readouterr().out


def test_k_that_does_not_fit_the_model_is_refused_for_apply(demo_copy, capsys):
    before = (demo_copy / PROJECT_FILE).read_bytes()
    assert main(["anchors", str(demo_copy), "-k", "5", "--apply"]) == 1
    assert "-k 9" in capsys.readouterr().err
    assert (demo_copy / PROJECT_FILE).read_bytes() == before
    # without --apply, any k is shown for inspection
    assert main(["anchors", str(demo_copy), "-k", "5"]) == 0
    assert "does not match the model" in capsys.readouterr().out


def test_project_without_boxes_and_bad_size_give_clear_errors(tmp_path, capsys):
    Project.create(tmp_path / "empty", ["thing"])
    assert main(["anchors", str(tmp_path / "empty")]) == 1
    err = capsys.readouterr().err
    assert "no labelled boxes" in err and "empty" in err and "Traceback" not in err
    assert main(["anchors", str(tmp_path / "empty"), "--size", "300"]) == 1
    assert "--size" in capsys.readouterr().err


def test_broken_label_file_is_reported_and_the_rest_still_fits(demo_copy, capsys):
    label = sorted((demo_copy / "images").glob("*.xml"))[0]
    label.write_text("<annotation><object>", encoding="utf-8")
    assert main(["anchors", str(demo_copy)]) == 0
    captured = capsys.readouterr()
    assert label.name in captured.err
    assert "fitted" in captured.out
