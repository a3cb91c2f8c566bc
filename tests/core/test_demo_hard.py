"""The hard demo: six classes with the box shapes, occlusion and small objects it promises."""
import numpy as np

from yolo_studio.cli import main
from yolo_studio.core import demo, demo_hard
from yolo_studio.core.boxes import iou
from yolo_studio.core.project import Project


def test_hard_demo_has_six_classes_of_varied_aspect_and_size(tmp_path):
    root = demo.generate_demo_project(tmp_path / "h", n_images=40, seed=0, min_size=128, max_size=192,
                                      kind="hard")
    project = Project.open(root)
    anns, problems = project.load_all()
    assert problems == [] and project.classes == demo_hard.HARD_CLASSES and len(project.classes) >= 6
    boxes = [(a, b) for a in anns for b in a.boxes]
    aspect = {c: [b.width / b.height for _, b in boxes if b.label == c] for c in project.classes}
    assert all(len(v) >= 5 for v in aspect.values()), {c: len(v) for c, v in aspect.items()}
    assert min(aspect["ellipse"]) > 1.3                       # wide
    assert max(aspect["rectangle"]) < 0.85                    # tall
    bars = np.array(aspect["bar"])
    assert (bars > 3).any() and (bars < 1 / 3).any()          # lying and standing
    assert 0.75 < np.median(aspect["ring"]) < 1.33
    rel = [max(b.width, b.height) / max(a.width, a.height) for a, b in boxes]
    assert min(rel) < 0.08 and max(rel) > 0.3                 # small and large objects
    overlapping = sum(((iou(a.boxes_array(), a.boxes_array()) - np.eye(len(a.boxes))) > 0.02).any()
                      for a in anns if len(a.boxes) > 1)
    assert overlapping >= 3                                   # partial occlusion happens


def test_boxes_hold_their_shape_and_lighting_varies(tmp_path):
    rng = np.random.default_rng(3)
    for label in demo_hard.HARD_CLASSES:
        m = demo_hard.shape_mask(rng, label, 40)
        # the mask is tight: ink on every border row and column
        assert m[0].any() and m[-1].any() and m[:, 0].any() and m[:, -1].any(), label
    img = demo_hard._lighting(np.random.default_rng(1), np.full((64, 64, 3), 128, np.uint8))
    assert img.max() - img.min() > 25                          # a brightness ramp across the image


def test_cli_hard_flag_writes_the_hard_demo(tmp_path, capsys):
    assert main(["demo", str(tmp_path / "d"), "--hard", "--images", "3", "--min-size", "64",
                 "--max-size", "96"]) == 0
    assert "ellipse, bar, ring, rectangle, triangle, cross" in capsys.readouterr().out
    assert main(["demo", str(tmp_path / "e"), "--hard", "--kind", "digits", "--images", "2"]) == 1
    assert "--hard and --kind digits" in capsys.readouterr().err
