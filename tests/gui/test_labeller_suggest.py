"""The labeller's active-learning loop: Suggest sorts the list, N walks the suggestions, and
enough new labels bring an offer to retrain in the Train tab (through AppContext)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QMessageBox

from yolo_studio.core.annotations import Box, ImageAnnotation
from yolo_studio.core.project import Project
from yolo_studio.gui.context import AppContext
from yolo_studio.gui.labeller.panel import LabellerPanel
from yolo_studio.gui.settings import write_settings

CLASSES = ["ring", "bar"]
WAIT_MS = 60000


@pytest.fixture
def project(tmp_path):
    project = Project.create(tmp_path / "proj", CLASSES)
    rng = np.random.default_rng(0)
    for i in range(7):
        img = np.full((80, 96, 3), int(rng.integers(60, 200)), np.uint8)
        cv2.circle(img, (int(rng.integers(20, 76)), 40), int(rng.integers(6, 20)), (40, 40, 215), 3)
        cv2.imwrite(str(project.image_dirs[0] / f"img{i:02d}.jpg"), img)
    project.refresh()
    images = project.image_paths()
    project.save_annotation(ImageAnnotation(images[0], 96, 80, [Box(2, 2, 30, 30, "ring")]))
    return project


@pytest.fixture
def panel(qtbot, project):
    context = AppContext(project)
    panel = LabellerPanel(context)
    qtbot.addWidget(panel)
    return panel


def _shown(panel):
    return [panel.browser.path_at(r) for r in range(panel.browser.shown_count())]


def _label(panel, path):
    """A person draws a box on ``path`` in the labeller."""
    assert panel.show_image(path)
    panel._box_drawn(QRectF(5, 5, 20, 20))
    assert panel.store.flush()


def test_next_suggested_walks_the_order_and_skips_images_labelled_meanwhile(panel, project):
    images = project.image_paths()
    order = [images[5], images[2], images[6], images[3]]
    panel.set_suggestions(order)
    assert _shown(panel) == order + [p for p in images if p not in order]   # "most useful to label next"
    assert panel.browser.sort_box.currentData() == "useful"
    panel.actions["next_suggested"].trigger()
    assert panel.current_path() == images[5]
    _label(panel, images[2])                               # labelled out of turn...
    panel.show_image(images[5])
    panel.actions["next_suggested"].trigger()
    assert panel.current_path() == images[6]               # ...so N skips it
    # labelled on disk by another tool while the app runs
    project.save_annotation(ImageAnnotation(images[3], 96, 80, [], verified=True))
    panel.context.labelsChanged.emit([str(images[3])])
    assert not panel.next_suggested() and panel.current_path() == images[6]
    panel.browser.sort_box.setCurrentIndex(0)              # back to name order
    assert _shown(panel) == images


def test_enough_new_labels_offer_a_retrain_in_the_train_tab(qtbot, panel, project):
    write_settings({"labeller/retrainAfterLabels": 2})
    images = project.image_paths()
    _label(panel, images[0])                               # already labelled: does not count
    _label(panel, images[1])
    assert panel.retrain_offer is None
    _label(panel, images[2])
    offer = panel.retrain_offer
    assert offer is not None and "2 new images" in offer.text()
    with qtbot.waitSignal(panel.context.retrainRequested, timeout=2000):
        offer.button(QMessageBox.Yes).click()
    assert panel.retrain_offer is None and not panel.new_labels


def test_the_retrain_offer_says_which_new_labels_training_will_leave_out(qtbot, panel, project):
    write_settings({"labeller/retrainAfterLabels": 2})
    images = project.image_paths()
    guess = Box(40, 30, 70, 60, "ring", predicted=True, score=0.6)
    for p in images[1:3]:                                   # suggested, and shown pre-labelled
        project.save_annotation(ImageAnnotation(p, 96, 80, [guess]))
        panel.context.labelsChanged.emit([str(p)])
    _label(panel, images[1])                                # a box drawn; the guess left dashed
    _label(panel, images[2])
    offer = panel.retrain_offer
    assert offer is not None and "2 new images" in offer.text()
    assert "2 of them still hold pre-labels you have not accepted" in offer.text()
    offer.button(QMessageBox.No).click()
    panel.show_image(images[3])                             # verified: its pre-labels are accepted
    project.save_annotation(ImageAnnotation(images[3], 96, 80, [guess]))
    panel.context.labelsChanged.emit([str(images[3])])
    panel.show_image(images[3])
    panel.actions["verify"].trigger()
    _label(panel, images[4])
    offer = panel.retrain_offer
    assert offer is not None and "still hold" not in offer.text()


def test_suggest_dialog_orders_unlabelled_images_and_prelabels_them(qtbot, panel, project, tmp_path):
    import keras

    from yolo_studio.core.model import ModelSpec, build_model, save_checkpoint
    from yolo_studio.gui.labeller.suggest_dialog import SuggestDialog
    keras.utils.set_random_seed(0)
    weights = save_checkpoint(build_model("yolov3-tiny", 2, None),
                              ModelSpec("yolov3-tiny", 2, 64, class_names=CLASSES), tmp_path / "w" / "last")
    dialog = SuggestDialog(panel.context)
    qtbot.addWidget(dialog)
    dialog.suggested.connect(panel.set_suggestions)
    dialog.model_picker.choose_file(weights)
    dialog.count.setValue(3)
    with qtbot.waitSignal(dialog.suggested, timeout=WAIT_MS) as got:
        assert dialog.start()
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=WAIT_MS)
    order = got.args[0]
    images = project.image_paths()
    assert len(order) == 6 and images[0] not in order      # the labelled image is never suggested
    assert _shown(panel)[:6] == order
    for path in order[:3]:                                 # pre-labels, if any, are unverified guesses
        ann = project.load_annotation(path)
        assert not ann.verified and all(b.predicted for b in ann.boxes)


def test_every_toolbar_button_has_an_icon(panel):
    # "Next suggested" was text among icons in the toolbar (seen in the GUI walk's screenshots).
    from yolo_studio.gui.labeller.panel import TOOLBAR
    for name in filter(None, TOOLBAR):
        assert not panel.actions[name].icon().isNull(), name
