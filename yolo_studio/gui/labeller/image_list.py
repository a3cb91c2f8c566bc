"""The image list: a model/view list that stays smooth with 10,000+ images.

Nothing is decoded or parsed up front. A row's state (no labels / labelled /
verified, box count, classes) is computed the first time the view paints that
row, or when a filter needs it, and cached; edits update the cache directly.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QAbstractListModel, QModelIndex, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate

from yolo_studio.core.annotations import ImageAnnotation
from yolo_studio.core.errors import ImageFileError, YoloStudioError
from yolo_studio.core.images import image_size

NONE, LABELLED, VERIFIED, BROKEN = "none", "labelled", "verified", "broken"
STATE_COLORS = {NONE: "#b0b7c3", LABELLED: "#3b82f6", VERIFIED: "#22a06b", BROKEN: "#e5484d"}
STATE_NAMES = {NONE: "no labels", LABELLED: "labelled", VERIFIED: "verified",
               BROKEN: "cannot be read"}
VERIFIED_TINT = QColor(34, 160, 107, 40)
InfoRole = Qt.UserRole + 1
PathRole = Qt.UserRole + 2


@dataclass(frozen=True)
class ImageInfo:
    """What the list shows about one image."""

    state: str
    boxes: int = 0
    classes: frozenset = field(default_factory=frozenset)
    predicted: int = 0
    error: str = ""

    @property
    def awaiting_review(self) -> bool:
        """:attr:`ImageAnnotation.awaiting_review` of the image this summarises."""
        return self.state != VERIFIED and self.predicted > 0


def info_from_annotation(ann: ImageAnnotation) -> ImageInfo:
    """The list's summary of an annotation."""
    if ann.verified:
        state = VERIFIED
    elif ann.boxes:
        state = LABELLED
    else:
        state = NONE
    return ImageInfo(state, len(ann.boxes), frozenset(ann.labels()),
                     sum(b.predicted for b in ann.boxes))


class ImageListModel(QAbstractListModel):
    """Every image of the project, with lazily computed, cached state."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.project = None
        self._paths: list[Path] = []
        self._row_of: dict[Path, int] = {}
        self._info: dict[int, ImageInfo] = {}
        self._broken: dict[int, str] = {}

    def set_project(self, project) -> None:
        """Show the images of ``project`` (None: an empty list)."""
        self.beginResetModel()
        self.project = project
        self._paths = list(project.image_paths()) if project is not None else []
        self._row_of = {}
        self._info.clear()
        self._broken.clear()
        self.endResetModel()

    def paths(self) -> list[Path]:
        """Every image, in list order."""
        return self._paths

    def path(self, row: int) -> Path:
        """The image at ``row``."""
        return self._paths[row]

    def row_of(self, path) -> int:
        """Row of ``path``, -1 if it is not in the list."""
        path = Path(path)
        # The project lists images sorted by their text; a bisection avoids hashing
        # 10,000 paths up front. Anything unexpected falls back to a full index.
        i = bisect.bisect_left(self._paths, str(path), key=str)
        if i < len(self._paths) and self._paths[i] == path:
            return i
        if not self._row_of and self._paths:
            self._row_of = {p: i for i, p in enumerate(self._paths)}
        return self._row_of.get(path, -1)

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._paths)

    def is_cached(self, row: int) -> bool:
        """True when ``row``'s state is known without reading its label file."""
        return row in self._info or row in self._broken

    def cached_rows(self) -> set[int]:
        """Rows whose state is known without reading anything."""
        return set(self._info) | set(self._broken)

    def class_index(self, name: str):
        """Per row, whether the project's index of its boxes has class ``name``, as a numpy bool
        array (None: no index, each label file must be read). It knows the files, not edits here."""
        has = self.project.images_with_class(name) if self.project is not None else None
        return has if has is not None and len(has) == len(self._paths) else None

    def info(self, row: int) -> ImageInfo:
        """The state of image ``row``, computed on first use."""
        if row in self._broken:
            return ImageInfo(BROKEN, error=self._broken[row])
        cached = self._info.get(row)
        if cached is None:
            cached = self._info[row] = self._compute(self._paths[row])
        return cached

    def _compute(self, path: Path) -> ImageInfo:
        try:
            # The header only (JPEG/PNG/BMP): an unreadable file shows as such before
            # it is opened, and the "Cannot be read" filter counts it after a restart.
            image_size(path)
        except ImageFileError as e:
            return ImageInfo(BROKEN, error=str(e))
        if not self.project.has_labels(path):
            return ImageInfo(NONE)
        try:
            return info_from_annotation(self.project.load_annotation(path))
        except (OSError, YoloStudioError) as e:
            return ImageInfo(BROKEN, error=f"label file cannot be read: {e}")

    def update_annotation(self, ann: ImageAnnotation) -> None:
        """Refresh one row after an edit, without touching the disk."""
        row = self.row_of(ann.image_path)
        if row >= 0:
            self._info[row] = info_from_annotation(ann)
            self._changed(row)

    def forget(self, path) -> None:
        """Drop the cached state of ``path`` (its label file changed on disk)."""
        row = self.row_of(path)
        if row >= 0:
            self._info.pop(row, None)
            self._broken.pop(row, None)
            self._changed(row)

    def forget_all(self) -> None:
        """Drop every cached state (after a class rename or delete)."""
        self._info.clear()
        if self._paths:
            self.dataChanged.emit(self.index(0), self.index(len(self._paths) - 1))

    def mark_broken(self, path, message: str) -> None:
        """Flag an image that cannot be shown (the marker stays until it loads)."""
        row = self.row_of(path)
        if row >= 0:
            self._broken[row] = message
            self._changed(row)

    def mark_readable(self, path) -> None:
        """Clear the broken marker of an image that now loads (it was fixed on disk)."""
        row = self.row_of(path)
        cached = self._info.get(row)
        if cached is not None and cached.state == BROKEN:
            del self._info[row]  # computed again: the label file may still be unreadable
        if self._broken.pop(row, None) is not None or cached is not None:
            self._changed(row)

    def _changed(self, row: int) -> None:
        idx = self.index(row)
        self.dataChanged.emit(idx, idx)

    def data(self, index: QModelIndex, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        row = index.row()
        if role == Qt.DisplayRole:
            return self._paths[row].name
        if role == PathRole:
            return str(self._paths[row])
        if role == InfoRole:
            return self.info(row)
        if role == Qt.ToolTipRole:
            info = self.info(row)
            text = f"{self._paths[row]}\n{STATE_NAMES[info.state]}, {info.boxes} boxes"
            if info.predicted:
                text += f" ({info.predicted} pre-labels to check)"
            return text + (f"\n{info.error}" if info.error else "")
        return None


class ImageDelegate(QStyledItemDelegate):
    """A row: state dot, file name, box count on the right."""

    ROW_H = 24

    def sizeHint(self, option, index) -> QSize:
        return QSize(200, self.ROW_H)

    def paint(self, painter: QPainter, option, index) -> None:
        info: ImageInfo = index.data(InfoRole)
        painter.save()
        selected = bool(option.state & QStyle.State_Selected)
        if selected:
            painter.fillRect(option.rect, option.palette.highlight())
        else:
            if info.state == VERIFIED:  # as LabelImg tints a verified image: seen at a glance
                painter.fillRect(option.rect, VERIFIED_TINT)
            if option.state & QStyle.State_MouseOver:
                painter.fillRect(option.rect, QColor(0, 0, 0, 14))
        r = option.rect
        painter.setRenderHint(QPainter.Antialiasing)
        # A white ring keeps the dot visible on the (blue) selected row.
        painter.setPen(QPen(QColor("white"), 1.5) if selected else Qt.NoPen)
        painter.setBrush(QColor(STATE_COLORS[info.state]))
        painter.drawEllipse(QRectF(r.left() + 8, r.center().y() - 4, 8, 8))
        painter.setPen(Qt.NoPen)
        text_color = option.palette.highlightedText() if selected else option.palette.text()
        painter.setPen(text_color.color())
        count = "!" if info.state == BROKEN else (str(info.boxes) if info.boxes else "")
        if info.predicted:
            count = f"{info.boxes} ({info.predicted}?)"
        right = r.adjusted(0, 0, -8, 0)
        painter.drawText(right, Qt.AlignVCenter | Qt.AlignRight, count)
        cw = painter.fontMetrics().horizontalAdvance(count) + 12
        name_rect = r.adjusted(24, 0, -8 - cw, 0)
        name = painter.fontMetrics().elidedText(index.data(Qt.DisplayRole), Qt.ElideMiddle,
                                                name_rect.width())
        painter.drawText(name_rect, Qt.AlignVCenter | Qt.AlignLeft, name)
        painter.restore()
