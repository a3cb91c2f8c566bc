"""The labeller's document: the current image's annotation and its autosave.

Every change goes through :meth:`AnnotationStore.apply`, which shows it at
once and writes it to disk after a short pause (so a burst of key presses
costs one write), and at the latest on image switch or close. A failed write
keeps the change pending and says why; it is retried on the next flush.
A label file changed by another program since it was read here is not
written: ``conflict`` asks the panel what to do (gui/labeller/disk_sync.py).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from yolo_studio.core.annotations import ImageAnnotation
from yolo_studio.core.errors import YoloStudioError

SAVE_DELAY_MS = 300


def label_stamp(project, image):
    """What changes when ``image``'s labels change on disk (Project.label_stamp), None if none."""
    return project.label_stamp(image)


class AnnotationStore(QObject):
    """Holds annotations with unsaved edits and writes them via the project."""

    changed = Signal(object, tuple)   # ImageAnnotation, indices to select
    saved = Signal(object)            # Path of the image whose labels were written
    saveFailed = Signal(str)
    conflict = Signal(object)         # Path of an image whose label file changed outside

    def __init__(self, parent=None):
        super().__init__(parent)
        self.project = None
        self._pending: dict[Path, ImageAnnotation] = {}
        self._stamps: dict[Path, tuple | None] = {}   # label file state when last read/written
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_DELAY_MS)
        self._timer.timeout.connect(self.flush)

    def apply(self, ann: ImageAnnotation, selected=()) -> None:
        """Make ``ann`` the image's annotation now, and save it shortly."""
        self._pending[ann.image_path] = ann
        self.changed.emit(ann, tuple(selected))
        self._timer.start()

    def pending(self, image: Path) -> ImageAnnotation | None:
        """The unsaved annotation of ``image``, if any."""
        return self._pending.get(Path(image))

    def has_pending(self) -> bool:
        """True while some edit is not on disk yet."""
        return bool(self._pending)

    def flush(self) -> bool:
        """Write every pending annotation now; True if all were written."""
        self._timer.stop()
        ok = True
        for path, ann in list(self._pending.items()):
            if self.changed_on_disk(path):
                ok = False
                self.conflict.emit(path)
                continue
            try:
                self.project.save_annotation(ann)
            except (OSError, YoloStudioError) as e:
                ok = False
                self.saveFailed.emit(f"Could not save the labels of {path.name}: {e}. "
                                     "Your edits are kept and will be saved again.")
                continue
            self.remember_disk(path)
            if self._pending.get(path) is ann:
                del self._pending[path]
            self.saved.emit(path)
        return ok

    def remember_disk(self, image: Path) -> None:
        """Note the state of ``image``'s label file as read or written here."""
        self._stamps[Path(image)] = label_stamp(self.project, image)

    def changed_on_disk(self, image: Path) -> bool:
        """True if another program changed ``image``'s label file since we last read or wrote it."""
        image = Path(image)
        return image in self._stamps and label_stamp(self.project, image) != self._stamps[image]

    def discard(self, image: Path) -> None:
        """Forget unsaved edits of ``image`` (its file was rewritten by someone else)."""
        self._pending.pop(Path(image), None)
