"""AppContext: the one object panels share, so they never import each other.

Panels read ``context.project`` and talk through its signals:
- ``projectChanged(project)``: a different project was opened.
- ``labelsChanged(paths)``: label files of these images changed on disk
  (pre-labelling, a preview snapshot); the labeller reloads them.
- ``imagesAdded(paths)``: new images were put into the project (snapshots).
- ``showImageRequested(path)``: jump the labeller to this image (anchors view).
- ``showBoxRequested(path, index)``: jump there and select box ``index`` of it.
- ``modelChosen(path)``: a checkpoint to use in the preview (training results).
- ``statusMessage(text)``: a line for the main window's status bar.
- ``classesChanged()``: the project's class list changed.
- ``retrainRequested()``: retrain from the last weights now (the labeller offers it
  after enough new labels; the Train tab runs it).

State panels share: ``project``, and ``model_path``, the model a person last chose
(in the preview or the pre-label dialog), so the other starts with the same one.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class AppContext(QObject):
    projectChanged = Signal(object)
    labelsChanged = Signal(list)
    imagesAdded = Signal(list)
    showImageRequested = Signal(str)
    showBoxRequested = Signal(str, int)
    modelChosen = Signal(str)
    statusMessage = Signal(str)
    classesChanged = Signal()
    retrainRequested = Signal()

    def __init__(self, project=None, parent: QObject | None = None):
        super().__init__(parent)
        self.project = project
        self.model_path: str | None = None

    def set_project(self, project) -> None:
        """Switch to ``project`` and tell every panel."""
        self.project = project
        self.projectChanged.emit(project)
