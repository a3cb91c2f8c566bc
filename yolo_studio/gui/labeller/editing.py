"""The labeller's edits: each user action becomes one undo command on the image.

A mixin of LabellerPanel, kept apart so the panel module stays about wiring.
Every method works on ``self._ann`` (the annotation on screen) and pushes an
EditAnnotation through ``self._edit``; nothing here touches the disk.
"""
from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMenu

from yolo_studio.core.annotations import Box, ImageAnnotation
from yolo_studio.core.errors import YoloStudioError
from yolo_studio.gui.labeller import box_ops
from yolo_studio.gui.labeller.commands import NUDGE_ID, EditAnnotation
from yolo_studio.gui.labeller.label_prompt import ask_class, asks_after_drawing
from yolo_studio.gui.shortcuts import binding, keys_for

DUPLICATE_OFFSET = 10.0   # px: a duplicate shows beside its original, not hidden under it


class EditingMixin:
    """Box and image edits of the labeller panel."""

    def _edit(self, boxes: list[Box], text: str, verified: bool | None = None, selected=(),
              merge_id: int = -1) -> bool:
        if self._ann is None:
            self._say("There is no image to edit.")
            return False
        if self._readonly:
            self._say(self._readonly)
            return False
        if verified is None:
            # Boxes changed after review: the image needs a new look, so it leaves
            # "verified" (else Next unverified and the Verified filter would miss it).
            verified = self._ann.verified and list(boxes) == list(self._ann.boxes)
            if self._ann.verified and not verified:
                self._say("Edited, so no longer verified: press Space when it is right again.")
        after = ImageAnnotation(self._ann.image_path, self._ann.width, self._ann.height, boxes,
                                verified)
        self._stack(self._current).push(
            EditAnnotation(self.store, self._ann, after, text, selected, merge_id))
        return True

    def _box_drawn(self, rect: QRectF) -> None:
        if self._ann is None or self._readonly:
            # No prompt for a box that cannot be kept: say why instead.
            self._say(self._readonly or "There is no image to draw on.")
            return
        if asks_after_drawing():
            label = self._class_from_prompt(self.classes.current_class())
            if not label:
                self._say("No class chosen: the box was not added.")
                return
        else:
            label = self.classes.current_class() or self.classes.add_class()
        if not label:
            self._say("Add a class first (the + next to Classes).")
            return
        box = Box(rect.left(), rect.top(), rect.right(), rect.bottom(), label)
        self._edit([*self._ann.boxes, box], f"Draw {label}", selected=(len(self._ann.boxes),))

    def _box_edited(self, index: int, rect: QRectF) -> None:
        old = self._ann.boxes[index]
        same_size = abs(old.width - rect.width()) < 1e-6 and abs(old.height - rect.height()) < 1e-6
        boxes = box_ops.set_rect(self._ann.boxes, index,
                                 (rect.left(), rect.top(), rect.right(), rect.bottom()))
        if not self._edit(boxes, "Move box" if same_size else "Resize box", selected=(index,)):
            self._show_boxes()  # put the dragged item back where the file says it is

    def _class_from_prompt(self, current: str, title: str = "Class of the new box") -> str:
        """Ask for a class; a new name typed there is added to the project ('' if cancelled)."""
        label = ask_class(self, self.classes.classes(), current, title)
        if label and label not in self.classes.classes():
            label = self.classes.add_class(label)   # checks the name, says why if it cannot be
        return label

    def relabel_box(self, index: int) -> bool:
        """Double-click on a box: ask for its class (as LabelImg's label dialog) and set it."""
        if self._ann is None or not 0 <= index < len(self._ann.boxes):
            return False
        self.canvas.select([index])
        label = self._class_from_prompt(self._ann.boxes[index].label, "Class of this box")
        if not label:
            return False
        self.classes.set_current_class(label)
        self._class_picked(label)
        return True

    def duplicate_selected(self) -> bool:
        """Copy the selected boxes, shifted a little (LabelImg's Ctrl+D)."""
        sel = self.canvas.selected_indices()
        if self._ann is None or not sel:
            self._say("Select a box to duplicate (click it).")
            return False
        boxes = box_ops.duplicate(self._ann.boxes, sel, DUPLICATE_OFFSET, self._ann.width,
                                  self._ann.height)
        added = range(len(self._ann.boxes), len(boxes))
        return self._edit(boxes, f"Duplicate {len(sel)} box(es)", selected=added)

    def set_difficult_selected(self, difficult: bool) -> bool:
        """The Difficult checkbox: set VOC's flag on the selected boxes."""
        sel = self.canvas.selected_indices()
        if self._ann is None or not sel:
            return False
        return self._edit(box_ops.set_difficult(self._ann.boxes, sel, difficult),
                          "Mark difficult" if difficult else "Unmark difficult", selected=sel)

    def apply_ctrl_d(self, duplicates: bool) -> None:
        """Ctrl+D copies the previous image's boxes (ours) or duplicates the selected box (LabelImg's)."""
        for name in ("copy_previous", "duplicate"):
            keys = keys_for(binding(name), duplicates)
            self.actions[name].setShortcuts([QKeySequence(k) for k in keys])

    def delete_selected(self) -> bool:
        """Delete the selected boxes (one undo step)."""
        sel = self.canvas.selected_indices()
        if not sel:
            self._say("Select a box to delete (click it).")
            return False
        return self._edit(box_ops.delete(self._ann.boxes, sel), f"Delete {len(sel)} box(es)")

    def nudge_selected(self, dx: float, dy: float) -> bool:
        """Arrow keys: move the selected boxes a little (one undo step per run of nudges)."""
        sel = self.canvas.selected_indices()
        if self._ann is None or not sel:
            return False
        boxes = box_ops.nudge(self._ann.boxes, sel, dx, dy, self._ann.width, self._ann.height)
        return self._edit(boxes, "Nudge box", selected=sel, merge_id=NUDGE_ID)

    def set_class_index(self, i: int) -> bool:
        """Key 1-9: class ``i`` for the selected boxes and for new boxes."""
        classes = self.classes.classes()
        if i >= len(classes):
            self._say(f"There is no class {i + 1}; the project has {len(classes)}.")
            return False
        self.classes.set_current_class(classes[i])
        self._class_picked(classes[i])  # also when it already was the current class
        return True

    def _class_picked(self, label: str) -> None:
        sel = self.canvas.selected_indices()
        if self._ann is None or not sel:
            return
        if all(self._ann.boxes[i].label == label and not self._ann.boxes[i].predicted for i in sel):
            return
        self._edit(box_ops.relabel(self._ann.boxes, sel, label), f"Set class {label}", selected=sel)

    def toggle_verified(self) -> bool:
        """Space: mark the image verified (accepting its pre-labels), or unverified."""
        if self._ann is None:
            return False
        keep = self.canvas.selected_indices()  # Space keeps the selection: arrows still nudge it
        if self._ann.verified:
            done = self._edit(list(self._ann.boxes), "Unverify image", verified=False, selected=keep)
        else:
            done = self._edit(box_ops.accept(self._ann.boxes), "Verify image", verified=True,
                              selected=keep)
        self.actions["verify"].setChecked(self._ann.verified)
        return done

    def accept_predictions(self) -> bool:
        """Accept the selected pre-labels, or all of this image's."""
        if self._ann is None:
            return False
        sel = [i for i in self.canvas.selected_indices() if self._ann.boxes[i].predicted]
        if not any(b.predicted for b in self._ann.boxes):
            self._say("This image has no pre-labels to accept.")
            return False
        return self._edit(box_ops.accept(self._ann.boxes, sel or None), "Accept pre-labels",
                          selected=sel)

    def copy_previous(self) -> bool:
        """Ctrl+D: add the previous image's boxes to this one."""
        row = self.browser.current_row()
        if self._ann is None or row <= 0:
            self._say("There is no previous image to copy from.")
            return False
        prev = self.browser.path_at(row - 1)
        try:
            source = self.store.pending(prev) or self.project.load_annotation(prev)
        except (YoloStudioError, OSError) as e:
            self._say(f"Cannot copy from {prev.name}: {e}")
            return False
        boxes = box_ops.copy_onto(self._ann.boxes, source.boxes, self._ann.width, self._ann.height)
        if len(boxes) == len(self._ann.boxes):
            self._say(f"{prev.name} has no boxes to copy.")
            return False
        added = range(len(self._ann.boxes), len(boxes))
        return self._edit(boxes, f"Copy {len(added)} box(es) from {prev.name}", selected=added)

    def _context_menu(self, pos) -> None:
        if self._ann is not None and not self.canvas.is_drawing():
            self.context_menu().exec(self.canvas.mapToGlobal(pos))

    def context_menu(self) -> QMenu:
        """The canvas's right-click menu for the current selection."""
        menu = QMenu(self)
        if self.canvas.selected_indices():
            to_class = menu.addMenu("Set class")
            for i, name in enumerate(self.classes.classes()):
                act = to_class.addAction(f"{name}\t{i + 1}" if i < 9 else name)
                act.triggered.connect(lambda _=False, n=name: self.classes.set_current_class(n)
                                      or self._class_picked(n))
            menu.addAction(self.actions["duplicate"])
            menu.addAction(self.actions["delete"])
        for name in ("accept", "draw", "copy_previous", "verify", None, "fit"):
            menu.addSeparator() if name is None else menu.addAction(self.actions[name])
        return menu

    def _toggle_draw(self) -> None:
        self.canvas.set_draw_mode(not self.canvas.is_drawing())
        self.actions["draw"].setChecked(self.canvas.is_drawing())
        self.canvas.setFocus()
