"""``yolo-studio detect``: images, folders, videos, label files, and every bad input as one line."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from yolo_studio.cli import main
from yolo_studio.core.formats.voc import read_voc
from yolo_studio.core.model import ModelSpec, build_model, save_checkpoint
from yolo_studio.core.model.darknet_cfg import write_cfg
from yolo_studio.core.model.darknet_weights import write_darknet_weights

NAMES = ["cat", "dog"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    import keras
    keras.utils.set_random_seed(5)
    model = build_model("yolov3-tiny", 2, 64)
    spec = ModelSpec("yolov3-tiny", 2, 64, class_names=NAMES)
    save_checkpoint(model, spec, d / "model")
    write_cfg(d / "dn.cfg", "yolov3-tiny", 2, spec.anchors, 64)
    write_darknet_weights(model, d / "dn.weights")
    rng = np.random.default_rng(0)
    (d / "images").mkdir()
    for i in range(3):
        cv2.imwrite(str(d / "images" / f"im{i}.png"), rng.integers(0, 256, (80 + 10 * i, 120, 3), np.uint8))
    (d / "images" / "broken.jpg").write_bytes(b"not a jpeg")
    video = cv2.VideoWriter(str(d / "clip.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10, (96, 64))
    for _ in range(5):
        video.write(rng.integers(0, 256, (64, 96, 3), np.uint8))
    video.release()
    return d


def detect(*args):
    return main(["detect", *map(str, args)])


def test_image_gives_annotated_copy_and_voc_prelabels(files, tmp_path, capsys):
    image = files / "images" / "im0.png"
    assert detect("--weights", files / "model", "--conf", "0.05", "--out", tmp_path,
                  "--save-labels", "voc", image) == 0
    out = capsys.readouterr().out
    assert "im0.png:" in out and "detections" in out
    drawn = cv2.imread(str(tmp_path / "im0.png"))
    assert drawn.shape == (80, 120, 3) and not np.array_equal(drawn, cv2.imread(str(image)))
    ann = read_voc(tmp_path / "im0.xml", image)
    assert ann.boxes and all(b.predicted and b.label in NAMES for b in ann.boxes)


def test_folder_skips_unreadable_images_and_writes_yolo_labels(files, tmp_path, capsys):
    assert detect("--weights", files / "dn.weights", "--conf", "0.05", "--out", tmp_path,
                  "--save-labels", "yolo", "--precision", "bfloat16", files / "images") == 0
    out = capsys.readouterr().out
    assert "skipped" in out and "broken.jpg" in out
    assert sorted(p.name for p in tmp_path.glob("im*.png")) == ["im0.png", "im1.png", "im2.png"]
    assert (tmp_path / "classes.txt").read_text().split() == ["class0", "class1"]
    first = (tmp_path / "im1.txt").read_text().splitlines()[0].split()
    assert first[0] in ("0", "1") and all(0 <= float(v) <= 1 for v in first[1:])


def test_video_gives_annotated_video_with_every_frame(files, tmp_path, capsys):
    assert detect("--weights", files / "model.weights.h5", "--out", tmp_path, files / "clip.avi") == 0
    assert "wrote 5 frames" in capsys.readouterr().out
    cap = cv2.VideoCapture(str(tmp_path / "clip_detections.mp4"))
    frames = 0
    while cap.read()[0]:
        frames += 1
    assert frames == 5


@pytest.mark.parametrize("case, message", [
    ("missing", "nowhere.jpg: no such image"),
    ("camera", "Camera 7 cannot be opened"),
    ("names", "two.names: gives 3 classes but dn.cfg"),
    ("truncated", "floats missing there"),
    ("conf", "--conf must be between 0 and 1"),
    ("overwrite", "is the image folder itself"),
])
def test_bad_input_is_one_clear_line(files, tmp_path, capsys, case, message):
    args = {"missing": ["--weights", files / "model", tmp_path / "nowhere.jpg"],
            "camera": ["--weights", files / "model", "7"],
            "names": ["--weights", files / "dn.weights", "--classes", tmp_path / "two.names",
                      files / "images"],
            "truncated": ["--weights", tmp_path / "cut.weights", "--cfg", files / "dn.cfg",
                          files / "images"],
            "conf": ["--weights", files / "model", "--conf", "5", files / "images"],
            "overwrite": ["--weights", files / "model", files / "images" / "im0.png",
                          "--out", files / "images"]}[case]
    (tmp_path / "two.names").write_text("a\nb\nc\n")
    (tmp_path / "cut.weights").write_bytes((files / "dn.weights").read_bytes()[:-100])
    if "--out" not in args:
        args += ["--out", tmp_path / "out"]
    assert detect(*args) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


# --- writing safely (review #107, #104, #106) ---

def snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_prelabels_into_a_projects_image_folder_are_refused(files, tmp_path, small_demo_project, capsys):
    import shutil
    project = tmp_path / "proj"
    shutil.copytree(small_demo_project, project)
    new_frames = tmp_path / "new_frames"
    new_frames.mkdir()
    first = sorted((project / "images").glob("*.jpg"))[0]
    shutil.copy(first, new_frames / first.name)            # a frame with the same name as a labelled image
    before = snapshot(project)
    for extra in ([], ["--overwrite"]):
        assert detect("--weights", files / "model", "--save-labels", "voc", "--out", project / "images",
                      *extra, new_frames) == 1
        err = capsys.readouterr().err
        assert "holds the images and labels of the YOLO Studio project" in err and "Pre-label" in err
    assert snapshot(project) == before


def test_detect_never_replaces_files_it_did_not_write(files, tmp_path, capsys):
    out = tmp_path / "labelimg_folder"      # a plain LabelImg folder: no project file to recognise
    out.mkdir()
    (out / "im0.png").write_bytes(b"someone's photo")
    (out / "im0.xml").write_text("<annotation>verified by a person</annotation>")
    before = snapshot(out)
    assert detect("--weights", files / "model", "--save-labels", "voc", "--out", out, files / "images") == 1
    assert "--overwrite" in capsys.readouterr().err
    assert detect("--weights", files / "model", "--save-labels", "voc", "--out", out, "--overwrite",
                  files / "images") == 1
    err = capsys.readouterr().err
    assert "would replace 2 file(s) it did not write" in err and "im0.png" in err
    assert snapshot(out) == before


def test_detect_reruns_into_its_own_output_but_not_over_edited_labels(files, tmp_path, capsys):
    out = tmp_path / "det"
    args = ["--weights", files / "model", "--conf", "0.05", "--save-labels", "voc", "--out", out, files / "images"]
    assert detect(*args) == 0
    assert "wrote 3 annotated images and 3 voc label files" in capsys.readouterr().out
    assert detect(*args) == 0, "its own earlier outputs are replaced without --overwrite"
    capsys.readouterr()
    label = out / "im1.xml"
    label.write_text(label.read_text().replace("</annotation>", "<!-- checked --></annotation>"))  # a person
    edited = label.read_text()
    assert detect(*args, "--overwrite") == 1
    assert "im1.xml" in capsys.readouterr().err and label.read_text() == edited


def test_huge_camera_index_is_a_clear_error(files, tmp_path, capsys):
    assert detect("--weights", files / "model", "--out", tmp_path / "o", "99999999999999999999") == 1
    err = capsys.readouterr().err
    assert "not a camera index" in err and "Traceback" not in err


def test_video_that_ends_early_is_reported(files, tmp_path, capsys):
    data = (files / "clip.avi").read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: int(len(data) * 0.6)])       # the MJPG AVI cut at 60%, as in the review
    assert detect("--weights", files / "model", "--out", tmp_path / "o", cut) == 0
    out = capsys.readouterr().out
    assert "stopped at frame" in out and "of 5" in out


def test_project_option_prelabels_through_the_projects_own_path(files, tmp_path, capsys):
    import shutil

    from yolo_studio.core.annotations import Box, ImageAnnotation
    from yolo_studio.core.project import Project

    project = Project.create(tmp_path / "proj", NAMES)
    own = project.image_dirs[0] / "im0.png"
    shutil.copy(files / "images" / "im0.png", own)
    human = Box(2, 2, 30, 30, "dog")
    project.save_annotation(ImageAnnotation(own, 120, 80, [human], verified=True))
    image_bytes = own.read_bytes()
    new_frames = tmp_path / "new_frames"
    new_frames.mkdir()
    shutil.copy(files / "images" / "im0.png", new_frames / "im0.png")    # same name as the project's image
    assert detect("--weights", files / "model", "--conf", "0.05", "--project", project.root, new_frames) == 0
    assert detect("--weights", files / "model", "--conf", "0.05", "--project", project.root, own) == 0
    out = capsys.readouterr().out
    assert "1 images added to it" in out and "pre-labelled 1 images" in out
    again = Project.open(project.root)
    assert own.read_bytes() == image_bytes
    mine = again.load_annotation(own)
    assert mine.boxes[0] == human and all(b.predicted for b in mine.boxes[1:]) and len(mine.boxes) > 1
    assert not mine.verified, "an image with new pre-labels is left for review"
    added = [p for p in again.image_paths() if p != own]
    assert len(added) == 1 and added[0].name != "im0.png"
    assert all(b.predicted for b in again.load_annotation(added[0]).boxes)
