"""The retrain offer's counts after an undo and after a rename on disk (a hostile pass's cases)."""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from yolo_studio.core.annotations import Box, ImageAnnotation
from yolo_studio.gui.settings import write_settings

sys.path.insert(0, str(Path(__file__).parent))
from test_labeller_suggest import _label, panel, project  # noqa: E402,F401  (fixtures)

GUESS = Box(40, 30, 70, 60, "ring", predicted=True, score=0.6)


def _prelabel(panel, project, path):
    project.save_annotation(ImageAnnotation(path, 96, 80, [GUESS]))
    panel.context.labelsChanged.emit([str(path)])


def test_an_undone_label_is_not_counted_as_a_new_label(qtbot, panel, project):
    """A person draws a box on a pre-labelled image, then undoes it: nobody labelled it."""
    write_settings({"labeller/retrainAfterLabels": 2})
    images = project.image_paths()
    _prelabel(panel, project, images[1])
    _label(panel, images[1])
    panel.undo_group.undo()                               # the drawn box is gone: only the guess left
    assert panel.store.flush()
    assert not panel.is_human_labelled(images[1])
    _label(panel, images[2])
    offer = panel.retrain_offer
    assert offer is None or "You labelled 2 new images" not in offer.text(), offer.text()


def test_a_renamed_image_is_no_longer_counted_as_a_new_label(qtbot, panel, project):
    """Labelled (box drawn, the guess left dashed), then renamed on disk with its label (F5):
    the name the person labelled is gone, so the offer counts only the images still there."""
    write_settings({"labeller/retrainAfterLabels": 2})
    images = project.image_paths()
    _prelabel(panel, project, images[1])
    _label(panel, images[1])
    panel.show_image(images[4])
    label = project.label_path(images[1])
    new_image = images[1].with_name("zz_renamed.jpg")
    images[1].rename(new_image)
    label.rename(project.label_path(new_image))
    text = project.label_path(new_image).read_text().replace(images[1].name, new_image.name)
    project.label_path(new_image).write_text(text)
    panel.disk.refresh()
    assert project.load_annotation(new_image).awaiting_review      # training will leave it out
    _label(panel, images[2])
    assert panel.retrain_offer is None                   # one new label left: images[2]
    _prelabel(panel, project, images[3])
    _label(panel, images[3])
    offer = panel.retrain_offer
    assert offer is not None
    text = offer.text()
    offer.button(QMessageBox.No).click()
    assert "You labelled 2 new images" in text and "1 of them still holds pre-labels" in text, text
