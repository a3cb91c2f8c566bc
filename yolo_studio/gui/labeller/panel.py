"""LabellerPanel: the Label tab. Wires the image list, the canvas and the class list.

Every edit becomes an undo command on the current image's own undo stack
(a QUndoGroup switches stacks with the image), and lands on disk through the
AnnotationStore's autosave.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QUndoGroup, QUndoStack
from PySide6.QtWidgets import QLabel, QMessageBox, QSplitter, QToolBar, QVBoxLayout, QWidget

from yolo_studio.core.annotations import ImageAnnotation
from yolo_studio.core.errors import ImageFileError, LabelFileError
from yolo_studio.gui.labeller.box_list import BoxList
from yolo_studio.gui.labeller.browser import ImageBrowser
from yolo_studio.gui.labeller.canvas import Canvas
from yolo_studio.gui.labeller.class_list import ClassList
from yolo_studio.gui.colors import color_map
from yolo_studio.gui.labeller.disk_sync import DiskSync
from yolo_studio.gui.labeller.document import AnnotationStore
from yolo_studio.gui.labeller.editing import EditingMixin
from yolo_studio.gui.labeller.image_list import BROKEN, NONE
from yolo_studio.gui.labeller.prefetch import Prefetcher, decode_qimage
from yolo_studio.gui.labeller.suggestions import SuggestionsMixin, human_labelled
from yolo_studio.gui.settings import read_setting
from yolo_studio.gui.shortcuts import CTRL_D_DUPLICATES_KEY, LABELLER_BINDINGS
from yolo_studio.gui.style import icon

TOOLBAR = ("prev_image", "next_image", None, "draw", "delete", "copy_previous", "verify",
           "accept", None, "undo", "redo", None, "zoom_in", "zoom_out", "fit", None, "prelabel",
           "suggest", "next_suggested")


class LabellerPanel(SuggestionsMixin, EditingMixin, QWidget):
    """The Label tab: draw and edit boxes on the project's images."""

    # "Where am I": image, n of N, size, boxes, verified. The window shows it in a
    # permanent status-bar field (a timed status message vanished after 15 s or on hover).
    locationChanged = Signal(str)

    def __init__(self, context, parent=None):
        super().__init__(parent)
        self.context = context
        self.project = None
        self.store = AnnotationStore(self)
        self.disk = DiskSync(self)
        self.undo_group = QUndoGroup(self)
        self._stacks: dict[Path, QUndoStack] = {}
        self._current: Path | None = None
        self._ann: ImageAnnotation | None = None
        self._readonly = ""
        self._direction = 1
        self.prefetcher = Prefetcher()
        self.browser = ImageBrowser()
        self.canvas = Canvas()
        self.classes = ClassList()
        self.boxes = BoxList()
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.actions: dict[str, QAction] = {}
        self.class_actions: list[QAction] = []
        self._init_suggestions()
        self._make_actions()
        self._build_layout()
        self._connect()
        self.set_project(context.project)

    # -- construction ---------------------------------------------------
    def _make_actions(self) -> None:
        slots = {"prev_image": lambda: self.step(-1), "next_image": lambda: self.step(1),
                 "next_unlabelled": lambda: self.next_where({NONE}),
                 "next_unverified": lambda: self.next_where({NONE, "labelled", BROKEN}),
                 "draw": self._toggle_draw, "delete": self.delete_selected,
                 "verify": self.toggle_verified, "copy_previous": self.copy_previous,
                 "accept": self.accept_predictions, "prelabel": self.open_prelabel,
                 "zoom_in": lambda: self.canvas.zoom_by(1.25),
                 "zoom_out": lambda: self.canvas.zoom_by(0.8), "fit": self.canvas.fit,
                 "refresh": self.disk.refresh, "duplicate": self.duplicate_selected,
                 "suggest": self.open_suggest, "next_suggested": self.next_suggested}
        for b in LABELLER_BINDINGS:
            if not b.name:
                continue
            if b.name == "nudge":
                steps = {"Left": (-1, 0), "Right": (1, 0), "Up": (0, -1), "Down": (0, 1)}
                for k in b.keys:
                    (dx, dy), n = steps[k.split("+")[-1]], 10 if k.startswith("Shift") else 1
                    act = QAction(f"Nudge {k}", self)
                    act.triggered.connect(lambda _=False, d=(dx * n, dy * n): self.nudge_selected(*d))
                    # Only on the canvas: arrows keep moving through the image list.
                    act.setShortcut(QKeySequence(k))
                    act.setShortcutContext(Qt.WidgetShortcut)
                    self.canvas.addAction(act)
                continue
            if b.name == "set_class":
                for i, key in enumerate(b.keys):
                    act = QAction(f"Class {key}", self)
                    act.triggered.connect(lambda _=False, i=i: self.set_class_index(i))
                    self._register(act, (key,))
                    self.class_actions.append(act)
                continue
            act = QAction(icon(b.icon), b.text, self)
            act.triggered.connect(slots.get(b.name) or getattr(self.undo_group, b.name))
            act.setToolTip(f"{b.help} ({b.keys[0]})" if b.keys else b.help)
            act.setObjectName(b.name)
            self._register(act, b.keys)
            self.actions[b.name] = act
        self.actions["draw"].setCheckable(True)
        self.apply_ctrl_d(read_setting(CTRL_D_DUPLICATES_KEY, False))
        self.actions["verify"].setCheckable(True)
        # Our own undo/redo actions keep a fixed, short text in the toolbar;
        # what they would undo goes in the tooltip.
        for name, can, text in (("undo", self.undo_group.canUndoChanged, self.undo_group.undoTextChanged),
                                ("redo", self.undo_group.canRedoChanged, self.undo_group.redoTextChanged)):
            act = self.actions[name]
            act.setEnabled(False)
            can.connect(act.setEnabled)
            text.connect(lambda t, a=act, n=name: a.setToolTip(f"{n.capitalize()} {t}".strip()))

    def _register(self, act: QAction, keys) -> None:
        act.setShortcuts([QKeySequence(k) for k in keys])
        # Keys act only while the Label tab has focus, so they never fire in other tabs.
        act.setShortcutContext(Qt.WidgetWithChildrenShortcut)
        self.addAction(act)

    def _build_layout(self) -> None:
        bar = QToolBar("Labeller")
        bar.setObjectName("labellerToolbar")
        bar.setToolButtonStyle(Qt.ToolButtonTextUnderIcon)
        for name in TOOLBAR:
            if name is None:
                bar.addSeparator()
            else:
                bar.addAction(self.actions[name])
        centre = QWidget()
        cl = QVBoxLayout(centre)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setSpacing(0)
        cl.addWidget(self.banner)
        cl.addWidget(self.canvas, 1)
        right = QWidget()
        right.setObjectName("sidePanel")
        rl = QVBoxLayout(right)
        rl.addWidget(self.classes, 1)
        rl.addWidget(self.boxes, 1)
        left = QWidget()
        left.setObjectName("sidePanel")
        ll = QVBoxLayout(left)
        ll.addWidget(self.browser)
        split = QSplitter(Qt.Horizontal)
        split.addWidget(left)
        split.addWidget(centre)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([270, 900, 230])
        split.setChildrenCollapsible(False)
        split.setHandleWidth(7)  # a 4-px handle was hard to find
        self.splitter = split
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(bar)
        layout.addWidget(split, 1)

    def _connect(self) -> None:
        self.browser.currentPathChanged.connect(self._path_chosen)
        self.canvas.boxDrawn.connect(self._box_drawn)
        self.canvas.boxEdited.connect(self._box_edited)
        self.canvas.selectionChanged.connect(self._selection_changed)
        self.canvas.spaceTapped.connect(self.toggle_verified)
        self.canvas.drawModeChanged.connect(self.actions["draw"].setChecked)
        self.canvas.boxActivated.connect(self.relabel_box)
        self.boxes.difficultClicked.connect(self.set_difficult_selected)
        # After picking a box in the list, arrows nudge it: the keys go to the canvas.
        self.boxes.list.itemClicked.connect(lambda _item: self.canvas.setFocus())
        self.canvas.setContextMenuPolicy(Qt.CustomContextMenu)
        self.canvas.customContextMenuRequested.connect(self._context_menu)
        self.boxes.selectionChanged.connect(self.canvas.select)
        self.classes.currentClassChanged.connect(self._class_picked)
        self.classes.aboutToEdit.connect(self.store.flush)
        self.classes.classesEdited.connect(self._classes_edited)
        self.classes.colorsChanged.connect(self._show_boxes)
        self.store.changed.connect(self._annotation_changed)
        self.store.saveFailed.connect(self._save_failed)
        self.store.saved.connect(self._sync_classes)
        self.context.projectChanged.connect(self.set_project)
        self.context.labelsChanged.connect(self.reload_labels)
        self.context.imagesAdded.connect(lambda _paths: self.browser.reload_paths(self.project))
        self.context.showImageRequested.connect(self.show_image)
        self.context.showBoxRequested.connect(self.show_box)
        self.context.classesChanged.connect(self._classes_changed_elsewhere)

    # -- project and images ---------------------------------------------
    def set_project(self, project) -> None:
        """Show ``project`` (saving what is pending first) at its first image."""
        self.store.flush()
        self.project = project
        self.store.project = project
        self._clear_stacks()
        self.prefetcher.clear()
        self._current, self._ann = None, None
        self._init_suggestions()
        self.classes.set_project(project)
        self.browser.set_project(project)
        self.disk.watch_project(project)
        self.canvas.set_image(None, "No images in this project yet: use File > Open folder."
                              if project is not None else "Open a folder of images (File > Open folder).")
        self.boxes.set_boxes([], {})
        if project is not None:
            self.browser.select_row(0)

    def current_path(self) -> Path | None:
        """The image on screen (None before one is opened)."""
        return self._current

    def annotation(self) -> ImageAnnotation | None:
        """The current image's annotation as shown (including unsaved edits)."""
        return self._ann

    def show_image(self, path) -> bool:
        """Jump to image ``path`` (clearing list filters that hide it); reloads it if current."""
        if self._current is not None and Path(path) == self._current:
            self.load_image(self._current)
            return True
        return self.browser.select_path(Path(path))

    def show_box(self, path, index: int) -> bool:
        """Jump to image ``path`` with its box ``index`` selected and in view (anchors view)."""
        if not self.show_image(path) or self._ann is None or not 0 <= index < len(self._ann.boxes):
            return False
        self.canvas.select([index])
        self.canvas.ensureVisible(self.canvas.items_()[index], 40, 40)
        return True

    def _path_chosen(self, path: Path) -> None:
        # A list rebuilt around the same image (new snapshots arrived) keeps the view as it is.
        if path != self._current or self._ann is None:
            self.load_image(path)

    def load_image(self, path: Path) -> None:
        """Show ``path`` with its boxes; saves the previous image's edits first."""
        self.store.flush()
        self.canvas.set_draw_mode(False)
        self._current, self._ann, self._readonly = Path(path), None, ""
        self.undo_group.setActiveStack(self._stack(self._current))
        try:
            image = self.prefetcher.take(path) or decode_qimage(path)
        except ImageFileError as e:
            self.browser.model.mark_broken(path, str(e))
            self.canvas.set_image(None, f"{e}\n\nThis image cannot be shown. Replace or remove "
                                  "the file; everything else keeps working.")
            self._set_banner("")
            self.boxes.set_boxes([], {})
            self.show_status()
            return
        self.canvas.set_image(image)
        self.browser.model.mark_readable(path)
        self._ann = self.store.pending(path) or self._read_labels(path, image.width(), image.height())
        self.disk.opened(path)
        self._show_boxes()
        self.show_status()
        self._prefetch_next()

    def _prefetch_next(self) -> None:
        row = self.browser.current_row() + self._direction
        if 0 <= row < self.browser.shown_count():
            self.prefetcher.request(self.browser.path_at(row))

    def _read_labels(self, path: Path, w: int, h: int) -> ImageAnnotation:
        try:
            ann = self.project.load_annotation(path)
        except (LabelFileError, OSError) as e:
            # Never overwrite a label file we could not read: it may hold someone's work.
            self._readonly = (f"The label file of this image cannot be read, so editing is off "
                              f"and the file is left untouched: {e}")
            self._set_banner(self._readonly)
            return ImageAnnotation(path, w, h)
        self._set_banner(file_problems_text(ann, self.project.label_path(path).name))
        if (ann.width, ann.height) != (w, h):
            ann = ann.copy()
            ann.width, ann.height = w, h
        return ann

    def reload_labels(self, paths) -> None:
        """Label files changed on disk (pre-labelling, class rename): show them afresh."""
        self.store.flush()
        for p in map(Path, paths):
            self.browser.model.forget(p)
            if p in self._stacks:
                self._stacks[p].clear()
        if self._current is not None and self._current in set(map(Path, paths)):
            self.load_image(self._current)

    # -- navigation -----------------------------------------------------
    def step(self, delta: int) -> bool:
        """Go to the next (1) or previous (-1) image in the list."""
        row = self.browser.current_row() + delta
        self._direction = 1 if delta > 0 else -1
        if not self.browser.select_row(row):
            self._say("This is the last image." if delta > 0 else "This is the first image.")
            return False
        return True

    def next_where(self, states: set) -> bool:
        """Go to the next image (wrapping) whose state is one of ``states``."""
        n, start = self.browser.shown_count(), self.browser.current_row()
        for k in range(1, n + 1):
            row = (start + k) % n
            if self.browser.model.info(self.browser.source_row_at(row)).state in states:
                return self.browser.select_row(row)
        self._say("No such image left in the list.")
        return False

    # -- pre-labelling --------------------------------------------------
    def open_prelabel(self) -> None:
        """Run a model over the selected images (or all unlabelled ones)."""
        if self.project is None:
            return
        self.store.flush()
        paths = self.browser.selected_paths()
        if len(paths) < 2:
            paths = [p for p in self.browser.model.paths() if not self.project.has_labels(p)]
        if not paths:
            self._say("Every image has labels; select the images to pre-label in the list.")
            return
        from yolo_studio.gui.labeller import prelabel_dialog   # loads TensorFlow only when asked
        dialog = prelabel_dialog.PrelabelDialog(self.context, paths, self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.open()

    # -- view updates ---------------------------------------------------
    def _annotation_changed(self, ann: ImageAnnotation, selected) -> None:
        was = self.is_human_labelled(ann.image_path)
        self.browser.model.update_annotation(ann)
        self.note_labelled(ann.image_path, was, self.is_human_labelled(ann.image_path))
        if ann.image_path == self._current:
            self._ann = ann
            self._show_boxes(selected)
            self.show_status()

    def _show_boxes(self, selected=None) -> None:
        if self._ann is None:
            return
        if selected is None or selected is False:
            selected = self.canvas.selected_indices()
        colors = color_map(self.classes.classes(), self._ann.labels())
        self.canvas.set_boxes(self._ann.boxes, colors, selected)
        self.boxes.set_boxes(self._ann.boxes, colors)
        self.boxes.select(self.canvas.selected_indices())
        self.actions["verify"].setChecked(self._ann.verified)

    def _selection_changed(self, indices: list) -> None:
        self.boxes.select(indices)
        if self._ann is not None and indices:
            labels = {self._ann.boxes[i].label for i in indices}
            if len(labels) == 1:
                self.classes.blockSignals(True)
                self.classes.set_current_class(labels.pop())
                self.classes.blockSignals(False)

    def _classes_edited(self, changed_labels: list) -> None:
        self.browser.set_classes(self.classes.classes())
        self._clear_stacks()
        self.browser.model.forget_all()
        self.context.classesChanged.emit()
        if changed_labels:
            # The project reports label files; the app's signal speaks of images.
            by_label = {self.project.label_path(p): p for p in self.browser.model.paths()}
            images = [by_label[Path(p)] for p in changed_labels if Path(p) in by_label]
            self.context.labelsChanged.emit([str(p) for p in images])
        if self._current is not None:
            self.load_image(self._current)

    def _classes_changed_elsewhere(self) -> None:
        self.classes.refresh()
        self.browser.set_classes(self.classes.classes())
        self._show_boxes()

    def _sync_classes(self, _path=None) -> None:
        # Saving a box whose class the project did not know yet adds that class to it.
        shown = [self.classes.list.item(i).text() for i in range(self.classes.list.count())]
        if self.project is not None and self.project.classes != shown:
            self.context.classesChanged.emit()

    def show_status(self) -> None:
        """Say which image is on screen, where it is in the list, and its state (locationChanged)."""
        if self._current is None:
            return
        n, row = self.browser.model.rowCount(), self.browser.model.row_of(self._current) + 1
        text = f"{self._current.name}  ·  image {row:,} of {n:,}"
        if self._ann is not None:
            text += (f"  ·  {self._ann.width}×{self._ann.height}  ·  {len(self._ann.boxes)} boxes"
                     + ("  ·  verified" if self._ann.verified else ""))
        else:
            text += "  ·  cannot be read"
        self.locationChanged.emit(text)

    def _set_banner(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.setVisible(bool(text))

    def _say(self, text: str) -> None:
        self.context.statusMessage.emit(text)

    def _save_failed(self, text: str) -> None:
        self._say(text)
        self._set_banner(text)

    # -- undo stacks and closing ----------------------------------------
    def _stack(self, path: Path) -> QUndoStack:
        stack = self._stacks.get(path)
        if stack is None:
            stack = self._stacks[path] = QUndoStack(self.undo_group)
        return stack

    def _clear_stacks(self) -> None:
        for stack in self._stacks.values():
            self.undo_group.removeStack(stack)
            stack.deleteLater()
        self._stacks.clear()

    # --- what the main window uses (it never reaches further in) -----------------------
    def flush(self) -> bool:
        """Write pending label edits now; False if some could not be saved (the banner says why)."""
        return self.store.flush()

    def menu_actions(self) -> dict[str, QAction]:
        """The labeller's actions by name, for the window's Edit and View menus."""
        return dict(self.actions)

    def focus_canvas(self) -> None:
        """Give the image the keyboard focus (the labeller's keys act there)."""
        self.canvas.setFocus()

    def may_close(self) -> bool:
        """Save pending edits; if that fails, ask before letting the window close."""
        self.prefetcher.clear()
        if self.store.flush():
            return True
        answer = QMessageBox.warning(
            self, "Unsaved labels", "Some labels could not be saved (see the message above the "
            "image). Close anyway and lose those edits?", QMessageBox.Close | QMessageBox.Cancel,
            QMessageBox.Cancel)
        return answer == QMessageBox.Close


def file_problems_text(ann: ImageAnnotation, label_name: str) -> str:
    """The banner for an image whose label file holds boxes that cannot be shown ('' if none)."""
    parts = []
    if ann.hidden:
        parts.append(f"{len(ann.hidden)} box(es) in {label_name} cannot be shown. They stay in the "
                     "file exactly as they are (training skips them); fix them in the file to use them.")
    shown = [n for n in ann.notes if all(n != h.problem for h in ann.hidden)]
    lines = [h.problem for h in ann.hidden] + shown
    if lines and not parts:
        parts.append(f"{label_name} needed fixing when read:")
    return " ".join(parts) + ("\n• " + "\n• ".join(lines[:8]) if lines else "") \
        + (f"\n… and {len(lines) - 8} more" if len(lines) > 8 else "")
