"""The labeller's side of active learning: Suggest, "Next suggested", and the offer to retrain.

A mixin of LabellerPanel (as editing.py is): it keeps the suggestion walk
(core/active/walk.py), sorts the image list by it, and counts images a person
labels; after the number set in the Suggest dialog it offers a retrain from
the last weights, which the Train tab runs (``context.retrainRequested``:
panels never import each other).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from yolo_studio.core.active.walk import SuggestionWalk
from yolo_studio.gui.labeller.image_list import BROKEN, VERIFIED
from yolo_studio.gui.settings import read_setting


def human_labelled(info) -> bool:
    """A person labelled it: verified, or a box that is not a pre-label (unreadable ones count too)."""
    return info.state in (VERIFIED, BROKEN) or info.boxes > info.predicted


class SuggestionsMixin:
    """Needs ``self.browser``, ``self.context``, ``self.store`` and ``self._say`` (LabellerPanel)."""

    def _init_suggestions(self) -> None:
        self.walk = SuggestionWalk()
        self.new_labels: set[Path] = set()
        self.retrain_offer: QMessageBox | None = None

    def open_suggest(self) -> None:
        """Ask the model which unlabelled images to label next (a dialog with progress and Cancel)."""
        if self.project is None:
            return
        self.store.flush()
        from yolo_studio.gui.labeller import suggest_dialog   # loads TensorFlow only when asked
        dialog = suggest_dialog.SuggestDialog(self.context, self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.suggested.connect(self.set_suggestions)
        dialog.labelsWritten.connect(lambda paths: self.context.labelsChanged.emit([str(p) for p in paths]))
        dialog.open()

    def set_suggestions(self, order) -> None:
        """Take a new suggestion order: sort the list by it and start the walk from its top."""
        self.walk = SuggestionWalk(order)
        self.browser.set_suggestion_ranks({p: i for i, p in enumerate(self.walk.order)})
        self._say(f"{len(self.walk):,} images in the order the model would learn most from; "
                  "N goes to the next one not labelled yet")

    def is_human_labelled(self, path) -> bool:
        """True when the list knows ``path`` as labelled by a person (or unreadable)."""
        row = self.browser.model.row_of(path)
        return row < 0 or human_labelled(self.browser.model.info(row))

    def next_suggested(self) -> bool:
        """Go to the next suggested image that nobody has labelled since the suggestions were made."""
        if not len(self.walk):
            self._say("No suggestions yet: use Suggest next… to let the model pick.")
            return False
        self.store.flush()
        path = self.walk.next(self.is_human_labelled, self.current_path())
        if path is None:
            self._say("Every suggested image is labelled now: retrain, then Suggest again.")
            return False
        return self.browser.select_path(path)

    def note_labelled(self, path, was_labelled: bool, now_labelled: bool) -> None:
        """Count an image a person just labelled; at the set number, offer a retrain."""
        if was_labelled or not now_labelled:
            return
        self.new_labels.add(Path(path))
        # Only images still in the list and still labelled by a person count (an undo, a
        # rename or a removal on disk since takes one out).
        self.new_labels = {p for p in self.new_labels if self._still_labelled(p)}
        limit = read_setting("labeller/retrainAfterLabels", 20)
        if limit and len(self.new_labels) >= limit and self.retrain_offer is None:
            self._offer_retrain(len(self.new_labels))

    def _info_of(self, path):
        """The list's ImageInfo of ``path``; None when the list no longer has it."""
        row = self.browser.model.row_of(path)
        return self.browser.model.info(row) if row >= 0 else None

    def _still_labelled(self, path) -> bool:
        info = self._info_of(path)
        return info is not None and human_labelled(info)

    def _offer_retrain(self, count: int) -> None:
        # every image counted is still in the list (note_labelled keeps only those)
        waiting = sum(self._info_of(p).awaiting_review for p in self.new_labels)
        note = (f"\n\n{waiting} of them still hold{'s' if waiting == 1 else ''} pre-labels you have not "
                "accepted: training leaves such an image out until you accept its boxes (Accept) or "
                "verify it (Space).") if waiting else ""
        box = QMessageBox(QMessageBox.Question, "Retrain with the new labels?",
                          f"You labelled {count} new images. Retrain from the last weights now "
                          "(in the Train tab, a short run), then Suggest again with the better model?"
                          + note, QMessageBox.Yes | QMessageBox.No, self)
        box.button(QMessageBox.Yes).setText("Retrain")
        box.button(QMessageBox.No).setText("Later")
        box.setWindowModality(Qt.NonModal)
        box.finished.connect(self._retrain_answer)
        self.retrain_offer = box
        box.show()

    def _retrain_answer(self, result: int) -> None:
        self.retrain_offer = None
        self.new_labels.clear()          # "Later" asks again after as many more
        if result == QMessageBox.Yes:
            self.store.flush()
            self.context.retrainRequested.emit()
