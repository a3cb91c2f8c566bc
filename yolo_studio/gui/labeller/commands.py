"""Undo: every edit is one QUndoCommand that swaps a whole ImageAnnotation.

Swapping whole (small) annotations instead of recording per-box deltas keeps
undo obviously correct: undo puts back exactly the object that was there.
"""
from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from yolo_studio.core.annotations import ImageAnnotation


class EditAnnotation(QUndoCommand):
    """Replace an image's annotation (``before`` -> ``after``) through the store."""

    def __init__(self, store, before: ImageAnnotation, after: ImageAnnotation, text: str,
                 selected_after=()):
        super().__init__(text)
        self._store = store
        self._before = before.copy()
        self._after = after.copy()
        self._selected_after = tuple(selected_after)

    def redo(self) -> None:
        self._store.apply(self._after.copy(), self._selected_after)

    def undo(self) -> None:
        self._store.apply(self._before.copy(), ())
