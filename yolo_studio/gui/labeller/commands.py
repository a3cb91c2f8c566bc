"""Undo: every edit is one QUndoCommand that swaps a whole ImageAnnotation.

Swapping whole (small) annotations instead of recording per-box deltas keeps
undo obviously correct: undo puts back exactly the object that was there.
"""
from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from yolo_studio.core.annotations import ImageAnnotation


NUDGE_ID = 1


class EditAnnotation(QUndoCommand):
    """Replace an image's annotation (``before`` -> ``after``) through the store."""

    def __init__(self, store, before: ImageAnnotation, after: ImageAnnotation, text: str,
                 selected_after=(), merge_id: int = -1):
        super().__init__(text)
        self._store = store
        self._before = before.copy()
        self._after = after.copy()
        self._selected_after = tuple(selected_after)
        self._merge_id = merge_id

    def id(self) -> int:
        return self._merge_id

    def mergeWith(self, other) -> bool:
        """Arrow-key nudges of the same boxes fold into one undo step."""
        if other.id() != self._merge_id or other._selected_after != self._selected_after:
            return False
        self._after = other._after.copy()
        return True

    def redo(self) -> None:
        self._store.apply(self._after.copy(), self._selected_after)

    def undo(self) -> None:
        self._store.apply(self._before.copy(), ())
