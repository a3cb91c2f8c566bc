"""The demo project: deterministic, learnable, boxes that match what is drawn."""
import filecmp

import numpy as np
import pytest

from yolo_studio.cli import main
from yolo_studio.core import demo
from yolo_studio.core.errors import ConfigError
from yolo_studio.core.images import read_image
from yolo_studio.core.project import PROJECT_FILE, Project

COLOURS = {"circle": (40, 40, 215), "square": (45, 185, 45), "triangle": (215, 105, 30)}


def _files(root):
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def test_same_seed_gives_byte_identical_files(tmp_path):
    a = demo.generate_demo_project(tmp_path / "a", n_images=6, seed=7, min_size=64, max_size=128)
    b = demo.generate_demo_project(tmp_path / "elsewhere" / "b", n_images=6, seed=7, min_size=64, max_size=128)
    assert _files(a) == _files(b) and len(_files(a)) == 13
    for rel in _files(a):
        assert filecmp.cmp(a / rel, b / rel, shallow=False), rel
    c = demo.generate_demo_project(tmp_path / "c", n_images=6, seed=8, min_size=64, max_size=128)
    assert (a / "images" / "demo_0000.jpg").read_bytes() != (c / "images" / "demo_0000.jpg").read_bytes()


def test_boxes_are_tight_around_the_drawn_shapes(small_demo_project):
    project = Project.open(small_demo_project)
    anns, problems = project.load_all()
    assert problems == [] and len(anns) == 48
    for ann in anns:
        image = read_image(ann.image_path).astype(np.int32)
        assert image.shape[:2] == (ann.height, ann.width)
        for b in ann.boxes:
            x1, y1, x2, y2 = (int(v) for v in b.xyxy())
            assert (x1, y1, x2, y2) == b.xyxy()                   # whole pixels, as drawn
            near = np.linalg.norm(image - np.array(COLOURS[b.label]), axis=2) < 80
            inside = near[y1:y2, x1:x2]
            # the shape reaches all four sides of its box (JPEG may fade a 1-px triangle tip)...
            assert inside[:2].any() and inside[-2:].any() and inside[:, :2].any() and inside[:, -2:].any()
            # ...fills a good part of it, and does not spill past it
            assert inside.mean() > 0.3
            ring = near[max(y1 - 2, 0):y2 + 2, max(x1 - 2, 0):x2 + 2].sum() - inside.sum()
            assert ring <= 0.02 * inside.sum() + 2


def test_variety_sizes_scales_classes_and_empty_images(tmp_path):
    root = demo.generate_demo_project(tmp_path / "v", n_images=60, seed=0, min_size=128, max_size=320)
    anns, _ = Project.open(root).load_all()
    sizes = {(a.width, a.height) for a in anns}
    aspect = [a.width / a.height for a in anns]
    assert len(sizes) > 50 and min(aspect) < 0.8 and max(aspect) > 1.25
    assert all(128 <= a.width <= 320 and 128 <= a.height <= 320 for a in anns)
    rel = [max(b.width, b.height) / max(a.width, a.height) for a in anns for b in a.boxes]
    assert min(rel) < 0.13 and max(rel) > 0.3                  # small and large objects
    labels = [b.label for a in anns for b in a.boxes]
    assert {labels.count(c) for c in demo.DEMO_CLASSES} and min(labels.count(c) for c in demo.DEMO_CLASSES) > 10
    empty = sum(not a.boxes for a in anns)
    assert 1 <= empty <= 15
    # objects do not overlap, so every box holds one shape
    for a in anns:
        boxes = a.boxes_array()
        from yolo_studio.core.boxes import iou
        m = iou(boxes, boxes) - np.eye(len(boxes))
        assert (m <= 0).all()


def test_smallest_objects_stay_visible_at_network_size(small_demo_project):
    anns, _ = Project.open(small_demo_project).load_all()
    side = min(min(b.width, b.height) * 256 / max(a.width, a.height) for a in anns for b in a.boxes)
    assert side >= 12    # at 96-192 px the demo is tiny; at the default 256-640 this is >= 16


def test_yolo_flavour_and_refusing_a_used_folder(tmp_path):
    root = demo.generate_demo_project(tmp_path / "y", n_images=4, seed=0, min_size=64, max_size=96,
                                      label_format="yolo")
    project = Project.open(root)
    assert project.label_format == "yolo" and (root / "images" / "classes.txt").exists()
    assert len(project.load_all()[0]) == 4
    with pytest.raises(ConfigError, match="not empty"):
        demo.generate_demo_project(root, n_images=2)
    with pytest.raises(ConfigError, match="at least 1"):
        demo.generate_demo_project(tmp_path / "z", n_images=0)


def test_ensure_demo_project_builds_once_in_the_user_folder(tmp_path, monkeypatch):
    real = demo.generate_demo_project
    calls = []

    def small(root, **kw):   # the real generator, fewer and smaller images to keep the test fast
        calls.append(root)
        return real(root, n_images=5, min_size=64, max_size=96)
    monkeypatch.setattr(demo, "generate_demo_project", small)
    monkeypatch.setenv("YOLO_STUDIO_HOME", str(tmp_path / "home"))
    first = demo.ensure_demo_project()
    assert first == tmp_path / "home" / "demo" and (first / PROJECT_FILE).is_file()
    assert len(Project.open(first).image_paths()) == 5
    assert demo.ensure_demo_project() == first and len(calls) == 1
    assert [p.name for p in (tmp_path / "home").iterdir()] == ["demo"]    # no half-built leftovers


def test_demo_command(tmp_path, capsys):
    assert main(["demo", str(tmp_path / "d"), "--images", "5", "--seed", "2", "--min-size", "64",
                 "--max-size", "96"]) == 0
    out = capsys.readouterr().out
    assert "5 images" in out and "circle, square, triangle" in out
    assert main(["demo", str(tmp_path / "d"), "--images", "5"]) == 1
    assert "not empty" in capsys.readouterr().err


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="XDG is the Linux convention")
def test_user_data_dir_follows_xdg_without_override(tmp_path, monkeypatch):
    from yolo_studio.core.paths import user_data_dir
    monkeypatch.delenv("YOLO_STUDIO_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert user_data_dir() == tmp_path / "xdg" / "yolo-studio"
    monkeypatch.setenv("YOLO_STUDIO_HOME", str(tmp_path / "mine"))
    assert user_data_dir() == tmp_path / "mine"


def test_demo_onto_a_file_is_refused_and_the_file_kept(tmp_path, capsys):
    from yolo_studio.cli import main
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    assert main(["demo", str(target), "--images", "1"]) == 1
    err = capsys.readouterr().err
    assert "is a file" in err and "Traceback" not in err and target.read_text() == "mine"


# --- the digits demo (issue 11) ------------------------------------------------------

from yolo_studio.core import demo_digits  # noqa: E402
from yolo_studio.core.training.events import TrainConfig  # noqa: E402


@pytest.fixture(scope="module")
def digits_project(tmp_path_factory):
    root = tmp_path_factory.mktemp("digits") / "d"
    return demo.generate_demo_project(root, n_images=40, seed=3, min_size=160, max_size=416,
                                      kind="digits")


def test_digits_are_ten_classes_deterministic_per_seed(digits_project, tmp_path):
    project = Project.open(digits_project)
    assert project.classes == [str(d) for d in range(10)]
    again = demo.generate_demo_project(tmp_path / "again", n_images=40, seed=3, min_size=160,
                                       max_size=416, kind="digits")
    assert _files(digits_project) == _files(again)
    for rel in _files(digits_project):
        if rel.name != PROJECT_FILE:
            assert filecmp.cmp(digits_project / rel, again / rel, shallow=False), rel
    other = demo.generate_demo_project(tmp_path / "other", n_images=2, seed=4, min_size=160,
                                       max_size=416, kind="digits")
    assert (other / "images" / "digits_0000.jpg").read_bytes() != \
        (digits_project / "images" / "digits_0000.jpg").read_bytes()


def test_digits_project_turns_horizontal_flip_off_for_training(digits_project):
    project = Project.open(digits_project)
    assert project.train_settings == {"hflip": False}
    assert TrainConfig.from_dict(project.train_settings).hflip is False
    assert TrainConfig().hflip is True          # shapes and ordinary projects keep mirroring


def test_digit_boxes_are_tight_around_ink_of_varied_size_and_count(digits_project):
    anns, problems = Project.open(digits_project).load_all()
    assert problems == [] and len(anns) == 40
    heights = []
    for ann in anns:
        image = read_image(ann.image_path).astype(np.int32)
        for b in ann.boxes:
            x1, y1, x2, y2 = (int(v) for v in b.xyxy())
            crop = image[y1:y2, x1:x2]
            # the ink differs from the box's typical (background) colour and touches all four sides
            ink = np.abs(crop - np.median(crop.reshape(-1, 3), axis=0)).max(axis=2) > 45
            assert ink[:2].any() and ink[-2:].any() and ink[:, :2].any() and ink[:, -2:].any(), b
            heights.append((y2 - y1) * 416 / max(ann.width, ann.height))
    counts = [len(a.boxes) for a in anns]
    labels = [b.label for a in anns for b in a.boxes]
    assert len(set(labels)) == 10
    assert max(counts) >= 5 and sum(c >= 2 for c in counts) > len(anns) // 2   # several per image
    assert min(heights) < 22 and max(heights) > 80      # 14-120 px at 416, scaled with the image


def test_glyphs_of_one_digit_vary_in_font_stroke_and_angle():
    rng = np.random.default_rng(0)
    masks = [demo_digits.glyph_mask(rng, 7, 60) for _ in range(12)]
    shapes = {m.shape for m in masks}
    ink = [m.mean() / 255 for m in masks]
    assert len(shapes) >= 8 and max(ink) - min(ink) > 0.1
    assert all(45 <= m.shape[0] <= 80 for m in masks)     # ~60 px tall, rotation/shear aside


def test_demo_command_writes_digits(tmp_path, capsys):
    assert main(["demo", str(tmp_path / "d"), "--kind", "digits", "--images", "3", "--min-size", "96",
                 "--max-size", "96"]) == 0
    assert "0, 1, 2, 3, 4, 5, 6, 7, 8, 9" in capsys.readouterr().out
    with pytest.raises(ConfigError, match="demo kind 'letters'"):
        demo.generate_demo_project(tmp_path / "x", n_images=1, kind="letters")
