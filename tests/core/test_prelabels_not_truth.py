"""A model's pre-labels are not ground truth until a person accepts them.

"Pre-label all" or a preview snapshot writes the model's guesses into label
files (dashed in the labeller). Training on them would teach the model its own
mistakes, and evaluating on them would grade the model against itself; leaving
out only the pre-label boxes would turn the objects they mark into background.
So an image whose pre-labels wait for review (not verified, a box still
'predicted') is left out of training and evaluation, and the run says so.
"""
from __future__ import annotations

import shutil

import pytest

from yolo_studio.cli import main
from yolo_studio.core.checkpoint_eval import ground_truth
from yolo_studio.core.errors import ConfigError
from yolo_studio.core.project import Project
from yolo_studio.core.training.pipeline import load_samples
from yolo_studio.core.training.preflight import check_samples

FAST_CLI = ["--model", "yolov3-tiny", "--size", "64", "--batch", "4", "--lr", "1e-3",
            "--warmup", "0.5", "--no-augment"]


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    from yolo_studio.core.demo import generate_demo_project

    root = tmp_path_factory.mktemp("prelabels") / "demo"
    generate_demo_project(root, n_images=16, seed=4, min_size=64, max_size=96)
    return root


@pytest.fixture
def project(demo_root, tmp_path):
    dst = tmp_path / "demo"
    shutil.copytree(demo_root, dst, ignore=shutil.ignore_patterns("runs"))
    return Project.open(dst)


def _as_prelabels(project, path, keep_human: int = 0, verified: bool = False):
    """Rewrite ``path``'s boxes as a model's (all but the first ``keep_human``)."""
    ann = project.load_annotation(path)
    ann.boxes = ann.boxes[:keep_human] + [b.moved(predicted=True, score=0.8) for b in ann.boxes[keep_human:]]
    ann.verified = verified
    project.save_annotation(ann)
    assert any(b.predicted for b in project.load_annotation(path).boxes)


def _with_boxes(project, n):
    return [p for p in project.image_paths() if len(project.load_annotation(p).boxes) >= 2][:n]


def test_training_leaves_out_unreviewed_prelabels_and_keeps_verified_ones(project):
    only, mixed, verified = _with_boxes(project, 3)
    _as_prelabels(project, only)
    _as_prelabels(project, mixed, keep_human=1)         # a person started, and left guesses there
    _as_prelabels(project, verified, verified=True)     # verified: the person said the boxes are right
    awaiting: list = []
    samples, problems = load_samples(project, project.image_paths(), project.classes, awaiting)
    used = {s.path for s in samples}
    assert not problems
    assert str(only) not in used and str(mixed) not in used
    assert str(verified) in used
    assert sorted(awaiting) == sorted([only, mixed])
    assert len(samples) == len(project.image_paths()) - 2


def test_accepting_a_prelabel_puts_the_image_back(project):
    path = _with_boxes(project, 1)[0]
    _as_prelabels(project, path)
    ann = project.load_annotation(path)
    ann.boxes = [b.moved(predicted=False, score=None) for b in ann.boxes]     # what Accept does
    project.save_annotation(ann)
    samples, _ = load_samples(project, [path], project.classes)
    assert [s.path for s in samples] == [str(path)]


def test_an_empty_training_split_names_the_prelabels_as_the_reason(project):
    train, _val = project.split()
    for p in train:
        if project.load_annotation(p).boxes:
            _as_prelabels(project, p)
        else:
            project.label_path(p).unlink()
    awaiting: list = []
    samples, _ = load_samples(project, train, project.classes, awaiting)
    assert samples == [] and awaiting
    with pytest.raises(ConfigError, match=rf"{len(awaiting)} images with pre-labels nobody has accepted"):
        check_samples(project.root, project.classes, samples, 4, len(awaiting))


def test_the_train_command_says_how_many_it_left_out(project, capsys):
    chosen = _with_boxes(project, 2)
    for p in chosen:
        _as_prelabels(project, p)
    assert main(["train", str(project.root), "--epochs", "1", *FAST_CLI]) == 0
    out = capsys.readouterr()
    text = out.out + out.err
    assert "left out 2 images whose pre-labels nobody has accepted yet" in text
    assert "accept or correct them in the Label tab" in text


def test_evaluation_is_not_graded_against_the_models_own_guesses(project):
    _train, val = project.split()
    labelled = [p for p in val if project.has_labels(p) and project.load_annotation(p).boxes]
    assert len(labelled) >= 2
    _as_prelabels(project, labelled[0])
    anns, problems = ground_truth(project, "val")
    kept = {a.image_path for a in anns}
    assert labelled[0] not in kept and labelled[1] in kept
    assert any("left out 1 image whose pre-labels" in p and "to evaluate on it" in p for p in problems)


def test_evaluation_with_only_negatives_left_is_refused_not_scored_zero(project):
    """Every val image with boxes pre-labelled, one negative left: mAP 0 over no boxes says
    nothing (a hostile pass saw `eval` print mAP 0.0000 and exit 0)."""
    project.val_fraction = 1.0
    _train, val = project.split()
    first = True
    for p in val:
        if not project.has_labels(p):
            continue
        a = project.load_annotation(p)
        if first:
            a.boxes, first = [], False              # a negative: a person said nothing is there
        else:
            a.boxes, a.verified = [b.moved(predicted=True, score=0.8) for b in a.boxes], False
        project.save_annotation(a)
    with pytest.raises(ConfigError, match=r"no labelled boxes in the val split.*with pre-labels nobody"):
        ground_truth(project, "val")
