"""The left side of the labeller: filters, the image list, and a count."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QItemSelectionModel, QSize, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QComboBox, QHBoxLayout, QLabel,
                               QLineEdit, QListView, QProgressDialog, QVBoxLayout, QWidget)

from yolo_studio.gui.labeller.image_filter import ImageFilter
from yolo_studio.gui.labeller.image_list import (BROKEN, LABELLED, NONE, STATE_COLORS, STATE_NAMES,
                                                 VERIFIED, ImageDelegate, ImageListModel)

PROGRESS_MIN_ROWS = 500   # fewer unread label files than this parse in a blink
SORTS = (("Name order", "name"), ("Most useful to label next", "useful"))
STATE_FILTERS = (("All images", ""), ("No labels", NONE), ("Labelled, not verified", LABELLED),
                 ("Verified", VERIFIED), ("Cannot be read", BROKEN))


class ImageBrowser(QWidget):
    """Image list with state/class/name filters; emits the image to show."""

    currentPathChanged = Signal(object)   # Path

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model = ImageListModel(self)
        self.proxy = ImageFilter(self)
        self.proxy.setSourceModel(self.model)
        self.view = QListView()
        self.view.setObjectName("imageList")
        self.view.setModel(self.proxy)
        # Uniform rows: the view never asks every row for its size (10,000+ images).
        self.view.setUniformItemSizes(True)
        # A grid of the delegate's row height: Qt's layout then asks the (Python) proxy for each
        # row once, not twice (its size too): COCO train2017's 118,287 rows took 0.38 s before
        # the first image showed, now 0.23 s. (The batched layout mode shows no row at all until
        # the last batch is laid out.) Width 1: rows are as wide as the view all the same.
        self.view.setGridSize(QSize(1, ImageDelegate.ROW_H))
        self.view.setItemDelegate(ImageDelegate(self.view))
        self.view.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.view.setMouseTracking(True)
        self.view.selectionModel().currentChanged.connect(self._current_changed)
        self.state_box = QComboBox()
        for text, state in STATE_FILTERS:
            self.state_box.addItem(text, state)
        self.class_box = QComboBox()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter by name…")
        self.search.setClearButtonEnabled(True)
        self.search.setObjectName("imageSearch")   # names: for scripted walks (widget_dump)
        self.state_box.setObjectName("stateFilter")
        self.sort_box = QComboBox()
        self.sort_box.setObjectName("sortOrder")
        for text, key in SORTS:
            self.sort_box.addItem(text, key)
        self.sort_box.setToolTip("Most useful to label next: after Suggest, the images the model "
                                 "would learn most from come first")
        self.sort_box.model().item(1).setEnabled(False)     # until there are suggestions
        self.sort_box.currentIndexChanged.connect(self._sort_changed)
        self._ranks: dict[Path, int] = {}
        self.count = QLabel()
        self.count.setObjectName("hint")
        legend = QLabel("  ".join(f'<span style="color:{STATE_COLORS[s]}">●</span> {STATE_NAMES[s]}'
                                  for s in (NONE, LABELLED, VERIFIED, BROKEN)))
        legend.setObjectName("hint")
        legend.setWordWrap(True)
        for signal in (self.state_box.currentIndexChanged, self.class_box.currentIndexChanged,
                       self.search.textChanged):
            signal.connect(self.apply_filter)
        title = QLabel("Images")
        title.setObjectName("sectionTitle")
        filters = QHBoxLayout()
        filters.addWidget(self.state_box, 3)
        filters.addWidget(self.class_box, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addLayout(filters)
        layout.addWidget(self.search)
        layout.addWidget(self.sort_box)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.count)
        layout.addWidget(legend)

    def set_project(self, project) -> None:
        """Show ``project``'s images, filters cleared, nothing selected yet."""
        self.set_suggestion_ranks({})
        self.model.set_project(project)
        self.set_classes(list(project.classes) if project is not None else [])
        self._update_count()

    def set_classes(self, classes: list[str]) -> None:
        """Offer ``classes`` in the class filter, keeping the chosen one."""
        current = self.class_box.currentData()
        self.class_box.blockSignals(True)
        self.class_box.clear()
        self.class_box.addItem("All classes", "")
        for name in classes:
            self.class_box.addItem(name, name)
        i = self.class_box.findData(current)
        self.class_box.setCurrentIndex(max(i, 0))
        self.class_box.blockSignals(False)

    def reload_paths(self, project) -> None:
        """Rescan the project's image list, keeping the current image selected."""
        current = self.current_path()
        self.model.set_project(project)
        self._apply_sort()
        self._update_count()
        if current is not None:
            self.select_path(current)

    # -- sorting --------------------------------------------------------
    def set_suggestion_ranks(self, ranks: dict) -> None:
        """Remember the suggestion order ({path: rank}); with ranks, sort by it right away."""
        self._ranks = {Path(p): int(r) for p, r in ranks.items()}
        self.sort_box.model().item(1).setEnabled(bool(self._ranks))
        self.sort_box.blockSignals(True)
        self.sort_box.setCurrentIndex(1 if self._ranks else 0)
        self.sort_box.blockSignals(False)
        self._sort_changed()

    def _sort_changed(self, _index=None) -> None:
        current = self.current_path()
        self._apply_sort()
        if current is not None:
            self.select_path(current, clear_filter=False)

    def _apply_sort(self) -> None:
        if self.sort_box.currentData() == "useful" and self._ranks:
            rows = {self.model.row_of(p): r for p, r in self._ranks.items()}
            self.proxy.sort_by_rank({row: r for row, r in rows.items() if row >= 0})
        else:
            self.proxy.sort_by_rank(None)

    # -- filtering ------------------------------------------------------
    def apply_filter(self) -> None:
        """Apply the filter widgets (parses label files only when a state/class filter is set)."""
        state, cls = self.state_box.currentData() or "", self.class_box.currentData() or ""
        if (state or cls) and not self._read_states(state, cls):
            self._restore_filter_widgets()
            return
        current = self.current_path()
        QApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            self.proxy.set_filter(state, cls, self.search.text())
        finally:
            QApplication.restoreOverrideCursor()
        self._update_count()
        if current is None or not self.select_path(current, clear_filter=False):
            self.select_row(0)

    def set_filters(self, state: str = "", cls: str = "", text: str = "") -> None:
        """Set the filter widgets (unknown values mean 'any') and apply them once."""
        for w in (self.state_box, self.class_box, self.search):
            w.blockSignals(True)
        self.state_box.setCurrentIndex(max(self.state_box.findData(state), 0))
        self.class_box.setCurrentIndex(max(self.class_box.findData(cls), 0))
        self.search.setText(text)
        for w in (self.state_box, self.class_box, self.search):
            w.blockSignals(False)
        self.apply_filter()

    def _read_states(self, state: str, cls: str) -> bool:
        """Read the label files the filter needs and that are not read yet, with progress and
        Cancel; False if cancelled. A dataset with an index of its boxes (COCO) says which
        images have a class without reading them: then only those are read, and only for a state."""
        has = self.model.class_index(cls) if cls else None
        if has is not None and not state:
            return True
        rows = range(self.model.rowCount()) if has is None else np.flatnonzero(has).tolist()
        missing = [r for r in rows if not self.model.is_cached(r)]
        if len(missing) < PROGRESS_MIN_ROWS:
            return True
        progress = QProgressDialog("Reading label files to filter the list…", "Cancel", 0,
                                   len(missing), self)
        progress.setWindowTitle("Filter images")
        progress.setWindowModality(Qt.WindowModal)
        progress.setMinimumDuration(400)
        try:
            for i, row in enumerate(missing):
                self.model.info(row)
                if i % 100 == 0:
                    progress.setValue(i)
                    if progress.wasCanceled():
                        return False
            progress.setValue(len(missing))
        finally:
            progress.close()
        return True

    def _restore_filter_widgets(self) -> None:
        # A cancelled filter leaves the list as it was, widgets included.
        state, cls, _text = self.proxy.filter_values()
        for box, value in ((self.state_box, state), (self.class_box, cls)):
            box.blockSignals(True)
            box.setCurrentIndex(max(box.findData(value), 0))
            box.blockSignals(False)

    def _update_count(self) -> None:
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        self.count.setText(f"{total:,} images" if shown == total
                           else f"{shown:,} of {total:,} images shown")

    # -- selection ------------------------------------------------------
    def current_path(self) -> Path | None:
        """The image that is current in the list (None if none)."""
        idx = self.view.currentIndex()
        if not idx.isValid():
            return None
        return self.model.path(self.proxy.mapToSource(idx).row())

    def current_row(self) -> int:
        """Row of the current image among the shown ones (-1 if none)."""
        idx = self.view.currentIndex()
        return idx.row() if idx.isValid() else -1

    def shown_count(self) -> int:
        """How many images the filters let through."""
        return self.proxy.rowCount()

    def path_at(self, row: int) -> Path:
        """The image shown at ``row``."""
        return self.model.path(self.proxy.mapToSource(self.proxy.index(row, 0)).row())

    def source_row_at(self, row: int) -> int:
        """Row in the full list of the image shown at ``row``."""
        return self.proxy.mapToSource(self.proxy.index(row, 0)).row()

    def select_row(self, row: int) -> bool:
        """Make shown row ``row`` the current image; False if there is no such row."""
        if not 0 <= row < self.proxy.rowCount():
            return False
        idx = self.proxy.index(row, 0)
        self.view.selectionModel().setCurrentIndex(idx, QItemSelectionModel.ClearAndSelect)
        self.view.scrollTo(idx)
        return True

    def select_path(self, path, clear_filter: bool = True) -> bool:
        """Show image ``path``, clearing the filters if they hide it."""
        row = self.model.row_of(path)
        if row < 0:
            return False
        idx = self.proxy.mapFromSource(self.model.index(row))
        if not idx.isValid():
            if not clear_filter:
                return False
            self.clear_filters()
            idx = self.proxy.mapFromSource(self.model.index(row))
        return self.select_row(idx.row())

    def clear_filters(self) -> None:
        """Show every image again."""
        for w in (self.state_box, self.class_box, self.search):
            w.blockSignals(True)
        self.state_box.setCurrentIndex(0)
        self.class_box.setCurrentIndex(0)
        self.search.clear()
        for w in (self.state_box, self.class_box, self.search):
            w.blockSignals(False)
        self.proxy.set_filter()
        self._update_count()

    def selected_paths(self) -> list[Path]:
        """Images selected in the list (several with Ctrl/Shift-click)."""
        rows = sorted(self.proxy.mapToSource(i).row() for i in self.view.selectionModel().selectedIndexes())
        return [self.model.path(r) for r in rows]

    def _current_changed(self, current, _previous) -> None:
        if current.isValid():
            self.currentPathChanged.emit(self.model.path(self.proxy.mapToSource(current).row()))
