"""Pre-labels stay pre-labels in COCO datasets opened in place and in exports (a hostile pass found them read, saved and exported as ground truth)."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from yolo_studio.core.annotations import Box
from yolo_studio.core.formats.dataset import export_project
from yolo_studio.core.prelabel import merge_predictions
from yolo_studio.core.project import Project
from yolo_studio.core.training.list_project import open_training_source
from yolo_studio.core.training.pipeline import load_samples

sys.path.insert(0, str(Path(__file__).parent))
from layout_fixtures import coco_dataset  # noqa: E402


def test_coco_in_place_reads_predicted_as_a_prelabel(tmp_path):
    root = coco_dataset(tmp_path / "coco")
    f = root / "annotations" / "instances_train2017.json"
    data = json.loads(f.read_text())
    for a in data["annotations"]:
        a["predicted"], a["score"] = True, 0.6      # as write_coco / the coco-dataset export mark one
    f.write_text(json.dumps(data))
    project = Project.open(root)
    awaiting: list = []
    samples, _ = load_samples(project, project.image_paths(), project.classes, awaiting)
    assert len(awaiting) == 2, f"trained on {len(samples)} images of the model's guesses"


def test_a_prelabel_saved_into_coco_in_place_stays_a_prelabel(tmp_path):
    project = Project.open(coco_dataset(tmp_path / "coco"))
    image = project.image_paths()[0]
    ann = project.load_annotation(image)
    ann.boxes = []
    project.save_annotation(merge_predictions(ann, [Box(5, 5, 25, 25, "dog", predicted=True, score=0.7)]).annotation)
    back = Project.open(project.root).load_annotation(image)
    assert [b.predicted for b in back.boxes] == [True], "the pre-label mark was lost on save"


@pytest.mark.parametrize("fmt", ["pylessons", "coco-dataset"])
def test_an_export_does_not_turn_prelabels_into_ground_truth(tmp_path, fmt):
    from yolo_studio.core.demo import generate_demo_project
    root = tmp_path / "demo"
    generate_demo_project(root, n_images=6, seed=4, min_size=64, max_size=96)
    project = Project.open(root)
    pre = [p for p in project.image_paths() if project.load_annotation(p).boxes][:2]
    for p in pre:
        a = project.load_annotation(p)
        a.boxes, a.verified = [b.moved(predicted=True, score=0.8) for b in a.boxes], False
        project.save_annotation(a)
    out = tmp_path / "out"
    export_project(project, fmt, out)
    src = next(out.glob("*.txt")) if fmt == "pylessons" else out
    exported = open_training_source(src)
    awaiting: list = []
    samples, _ = load_samples(exported, exported.image_paths(), exported.classes, awaiting)
    assert len(samples) == 4, (f"{fmt} export: {len(samples)} images trainable, {len(awaiting)} left out; "
                               "the 2 pre-labelled images became ground truth")


def test_eval_with_only_negatives_left_is_refused_not_scored_zero(tmp_path):
    """Every val image with boxes pre-labelled, one negative left: eval printed mAP 0.0000 over
    0 boxes and exited 0 (seen with `yolo-studio eval`), instead of naming the left-out images."""
    from yolo_studio.core.annotations import ImageAnnotation
    from yolo_studio.core.checkpoint_eval import ground_truth
    from yolo_studio.core.errors import ConfigError
    from yolo_studio.core.evaluation import evaluate
    from yolo_studio.core.demo import generate_demo_project
    root = tmp_path / "demo"
    generate_demo_project(root, n_images=10, seed=4, min_size=64, max_size=96)
    project = Project.open(root)
    project.val_fraction = 1.0
    _train, val = project.split()
    for i, p in enumerate(val):
        a = project.load_annotation(p)
        if i == 0:
            a.boxes = []                            # a negative: a person said nothing is there
        else:
            a.boxes, a.verified = [b.moved(predicted=True, score=0.8) for b in a.boxes], False
        project.save_annotation(a)
    try:
        anns, problems = ground_truth(project, "val")
    except ConfigError:
        return
    result = evaluate(anns, [[] for _ in anns], list(project.classes))
    pytest.fail(f"scored {len(anns)} image(s) with {sum(len(a.boxes) for a in anns)} boxes: "
                f"mAP {result.map50}; problems {problems}")
