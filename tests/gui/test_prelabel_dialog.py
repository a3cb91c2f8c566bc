"""PrelabelDialog runs a real (random-weight) tiny model over project images off the GUI thread."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from yolo_studio.core.annotations import Box, ImageAnnotation
from yolo_studio.core.project import Project
from yolo_studio.gui.context import AppContext
from yolo_studio.gui.labeller.prelabel_dialog import PrelabelDialog

CLASSES = ["circle", "square", "triangle"]
WAIT_MS = 30000


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A random-weight yolov3-tiny at 64 px with the project's classes, built once per session."""
    from yolo_studio.core.model import ModelSpec, build_model, save_checkpoint

    weights = tmp_path_factory.getbasetemp() / "preview-models" / "shapes.weights.h5"
    if not weights.exists():  # the preview panel tests share it
        save_checkpoint(build_model("yolov3-tiny", 3, 64),
                        ModelSpec("yolov3-tiny", 3, 64, class_names=CLASSES), weights)
    return weights


def make_project(root, n=3):
    project = Project.create(root, CLASSES)
    folder = project.image_dirs[0]
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        img = np.full((96, 128, 3), 140, np.uint8)
        cv2.circle(img, (int(rng.integers(20, 100)), 48), 15, (40, 40, 215), -1)
        cv2.imwrite(str(folder / f"img{i:02d}.jpg"), img)
    project.refresh()
    return project


@pytest.fixture
def setup(qtbot, tmp_path, checkpoint):
    project = make_project(tmp_path / "proj")
    images = project.image_paths()
    human = Box(4, 4, 60, 60, "square")
    project.save_annotation(ImageAnnotation(images[0], 128, 96, [human], verified=True))
    return AppContext(project), project, images, human


def open_dialog(qtbot, context, checkpoint, images=None):
    dialog = PrelabelDialog(context, images)
    qtbot.addWidget(dialog)
    dialog.model_picker.choose_file(checkpoint)
    dialog.score_slider.setValue(0.05)
    return dialog


def test_prelabel_writes_unverified_boxes_and_keeps_the_human_box(qtbot, setup, checkpoint):
    context, project, images, human = setup
    dialog = open_dialog(qtbot, context, checkpoint, images)
    assert dialog.run_button.isEnabled()
    with qtbot.waitSignal(context.labelsChanged, timeout=WAIT_MS) as changed:
        assert dialog.start()
    assert sorted(changed.args[0]) == images
    assert dialog.progress.value() == 3 and dialog.summary.text().startswith("Done")
    reread = Project.open(project.root)
    first = reread.load_annotation(images[0])
    assert first.boxes[0] == human
    assert len(first.boxes) > 1 and all(b.predicted for b in first.boxes[1:])
    assert not first.verified
    for image in images[1:]:
        ann = reread.load_annotation(image)
        assert ann.boxes and all(b.predicted and b.score >= 0.05 for b in ann.boxes)
        assert not ann.verified
    assert dialog.cancel_button.text() == "Close"


def test_default_is_every_unlabelled_image(qtbot, setup, checkpoint):
    context, _project, images, _human = setup
    dialog = open_dialog(qtbot, context, checkpoint)
    assert dialog.images == images[1:]
    assert "2 images" in dialog.summary.text()


def test_cancel_stops_early_and_reports_only_finished_images(qtbot, tmp_path, checkpoint):
    project = make_project(tmp_path / "many", n=40)
    context = AppContext(project)
    dialog = open_dialog(qtbot, context, checkpoint)
    with qtbot.waitSignal(context.labelsChanged, timeout=WAIT_MS) as changed:
        dialog.start()
        qtbot.waitUntil(lambda: dialog.progress.value() >= 2, timeout=WAIT_MS)
        dialog.cancel()
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=WAIT_MS)
    done = changed.args[0]
    assert 2 <= len(done) < 40
    assert dialog.summary.text().startswith("Cancelled")
    labelled = [p for p in project.image_paths() if project.has_labels(p)]
    assert sorted(done) == labelled


def test_closing_mid_run_still_reports_the_files_written(qtbot, tmp_path, checkpoint):
    project = make_project(tmp_path / "many", n=40)
    context = AppContext(project)
    dialog = open_dialog(qtbot, context, checkpoint)
    dialog.start()
    qtbot.waitUntil(lambda: dialog.progress.value() >= 2, timeout=WAIT_MS)
    with qtbot.waitSignal(context.labelsChanged, timeout=WAIT_MS) as changed:
        dialog.reject()  # the window's close button
    assert not dialog.is_running()
    labelled = [p for p in project.image_paths() if project.has_labels(p)]
    assert 2 <= len(labelled) < 40
    assert sorted(changed.args[0]) == labelled


def test_a_model_that_fails_to_load_writes_nothing_and_says_why(qtbot, setup, tmp_path):
    context, project, images, _human = setup
    bad = tmp_path / "junk.weights.h5"
    bad.write_bytes(b"junk")
    dialog = open_dialog(qtbot, context, bad, images)
    before = {p: project.label_path(p).read_bytes() for p in images if project.has_labels(p)}
    dialog.start()
    qtbot.waitUntil(lambda: not dialog.is_running() and bool(dialog.problems), timeout=WAIT_MS)
    assert "junk" in dialog.log.toPlainText()
    assert {p: project.label_path(p).read_bytes() for p in images if project.has_labels(p)} == before


def test_without_a_trained_model_the_dialog_says_to_train_first(qtbot, setup):
    context, _project, images, _human = setup
    dialog = PrelabelDialog(context, images)
    qtbot.addWidget(dialog)
    dialog.model_picker.combo.setCurrentIndex(0)
    assert not dialog.start()
    assert "no best checkpoint" in dialog.log.toPlainText()


def test_the_labeller_shows_the_new_pre_labels_as_predicted(qtbot, setup, checkpoint):
    from yolo_studio.gui.labeller.panel import LabellerPanel

    context, _project, images, human = setup
    labeller = LabellerPanel(context)
    qtbot.addWidget(labeller)
    labeller.show_image(images[0])
    assert [item.predicted for item in labeller.canvas.items_()] == [False]
    dialog = open_dialog(qtbot, context, checkpoint, images[:1])
    with qtbot.waitSignal(context.labelsChanged, timeout=WAIT_MS):
        dialog.start()
    qtbot.waitUntil(lambda: len(labeller.canvas.items_()) > 1, timeout=5000)
    flags = [item.predicted for item in labeller.canvas.items_()]
    assert flags[0] is False and all(flags[1:])


def test_classes_the_project_lacks_are_named_in_the_result_not_dropped_silently(qtbot, setup,
                                                                              checkpoint):
    import json
    import shutil

    from PySide6.QtCore import Qt

    from yolo_studio.core.model import ModelSpec

    # The same weights under other class names: every detection is of a class
    # the project does not have (as after renaming 'triangle' to 'tri').
    pets = checkpoint.with_name("pets-prelabel.weights.h5")
    shutil.copy(checkpoint, pets)
    spec = ModelSpec("yolov3-tiny", 3, 64, class_names=["cat", "dog", "owl"])
    pets.with_name("pets-prelabel.json").write_text(json.dumps(spec.to_dict()))
    context, project, images, _human = setup
    dialog = open_dialog(qtbot, context, pets, images[1:])
    dialog.show()
    qtbot.mouseClick(dialog.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.cancel_button.text() == "Close", timeout=WAIT_MS)
    text = dialog.summary.text()
    assert "left out classes not in the project" in text
    named = [c for c in ("cat", "dog", "owl") if c in text]
    assert named and all(c in dialog.log.toPlainText() for c in named)
    assert not any(project.has_labels(p) for p in images[1:])
