"""The canvas: one image, its boxes, drawing, zoom and pan (a QGraphicsView).

The canvas knows nothing about files or undo: it shows what it is given and
reports what the user did (a box drawn, a box moved, the selection) as
signals. Scene coordinates are the image's pixels.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsScene, QGraphicsView

from yolo_studio.core.annotations import Box
from yolo_studio.gui.labeller.box_item import BoxItem

MIN_ZOOM, MAX_ZOOM = 0.02, 40.0
MIN_DRAW_PX = 2.0      # a click without a drag never makes a box
ZOOM_STEP = 1.25


def box_text(box: Box) -> str:
    """The tag shown on a box: its class, plus the score while it is a pre-label."""
    if box.predicted:
        score = f" {box.score:.2f}" if box.score is not None else ""
        return f"{box.label}{score} ?"
    return box.label


class Canvas(QGraphicsView):
    """Shows an image with its boxes; draw, select, move, resize, zoom, pan."""

    boxDrawn = Signal(QRectF)            # a new box, image pixels, clipped to the image
    boxEdited = Signal(int, QRectF)      # box index, its new rect
    selectionChanged = Signal(list)      # indices of the selected boxes
    spaceTapped = Signal()               # Space pressed and released without panning
    drawModeChanged = Signal(bool)
    boxActivated = Signal(int)           # a box was double-clicked (change its class)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self._pixmap_item = QGraphicsPixmapItem()
        self._pixmap_item.setTransformationMode(Qt.SmoothTransformation)
        self._pixmap_item.setZValue(-1e12)
        self.scene().addItem(self._pixmap_item)
        self.scene().selectionChanged.connect(self._emit_selection)
        self._items: list[BoxItem] = []
        self._image_rect = QRectF()
        self._message = ""
        self._drawing = False
        self._draw_from: QPointF | None = None
        self._draw_to = QPointF()
        self._cursor = QPointF(-1, -1)
        self._pan_from: QPoint | None = None
        self._space_down = False
        self._space_panned = False
        self._fit = True
        self.setRenderHints(QPainter.Antialiasing | QPainter.SmoothPixmapTransform)
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.FullViewportUpdate)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setBackgroundBrush(QColor("#23272e"))
        self.setFrameShape(QGraphicsView.NoFrame)
        self.setObjectName("canvas")

    # -- content --------------------------------------------------------
    def set_image(self, image: QImage | None, message: str = "") -> None:
        """Show ``image`` (or, with None, ``message`` where the image would be)."""
        self.clear_boxes()
        self._message = message
        if image is None or image.isNull():
            self._pixmap_item.setPixmap(QPixmap())
            self._image_rect = QRectF()
            self.scene().setSceneRect(QRectF(0, 0, 1, 1))
        else:
            self._pixmap_item.setPixmap(QPixmap.fromImage(image))
            self._image_rect = QRectF(0, 0, image.width(), image.height())
            self.scene().setSceneRect(self._image_rect)
        self._fit = True
        self.fit()

    def has_image(self) -> bool:
        """True when an image (not a message) is shown."""
        return not self._image_rect.isEmpty()

    def image_rect(self) -> QRectF:
        """The image in scene coordinates (its pixels)."""
        return QRectF(self._image_rect)

    def message(self) -> str:
        """The message shown instead of an image ('' when an image is shown)."""
        return self._message

    def clear_boxes(self) -> None:
        """Remove every box item."""
        for item in self._items:
            self.scene().removeItem(item)
        self._items = []

    def set_boxes(self, boxes: list[Box], colors: dict, selected=()) -> None:
        """Replace the shown boxes; ``selected`` are indices to select."""
        self.scene().blockSignals(True)
        self.clear_boxes()
        scale = self.zoom()
        for i, box in enumerate(boxes):
            item = BoxItem(i, QRectF(QPointF(box.x1, box.y1), QPointF(box.x2, box.y2)),
                           box_text(box), colors.get(box.label, QColor("#888888")),
                           self._image_rect, box.predicted, self._on_item_edit)
            item.set_view_scale(scale)
            self.scene().addItem(item)
            item.setSelected(i in selected)
            self._items.append(item)
        self.scene().blockSignals(False)
        self._emit_selection()

    def items_(self) -> list[BoxItem]:
        """The box items, in box order."""
        return list(self._items)

    def selected_indices(self) -> list[int]:
        """Indices of the selected boxes."""
        return [it.index for it in self._items if it.isSelected()]

    def select(self, indices) -> None:
        """Select exactly the boxes at ``indices``."""
        wanted = set(indices)
        for it in self._items:
            it.setSelected(it.index in wanted)

    def _on_item_edit(self, index: int, rect: QRectF) -> None:
        self.boxEdited.emit(index, rect)

    def _emit_selection(self) -> None:
        self.selectionChanged.emit(self.selected_indices())

    # -- drawing mode ---------------------------------------------------
    def set_draw_mode(self, on: bool) -> None:
        """Start (W) or stop (Esc, or after one box) drawing a box."""
        on = bool(on) and self.has_image()
        if on == self._drawing:
            return
        self._drawing = on
        self._draw_from = None
        self.viewport().setCursor(Qt.CrossCursor if on else Qt.ArrowCursor)
        self.viewport().update()
        self.drawModeChanged.emit(on)

    def is_drawing(self) -> bool:
        """True while W (draw mode) is on."""
        return self._drawing

    def _clamp(self, p: QPointF) -> QPointF:
        r = self._image_rect
        return QPointF(min(max(p.x(), r.left()), r.right()), min(max(p.y(), r.top()), r.bottom()))

    # -- zoom -----------------------------------------------------------
    def zoom(self) -> float:
        """Screen pixels per image pixel."""
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        """Zoom around the cursor when it is over the canvas, else around the centre."""
        new = min(max(self.zoom() * factor, MIN_ZOOM), MAX_ZOOM)
        factor = new / self.zoom()
        if abs(factor - 1) < 1e-9:
            return
        self._fit = False
        self.scale(factor, factor)
        self._update_item_scale()

    def fit(self) -> None:
        """Fit the whole image in the window (and keep it fitted on resize)."""
        self._fit = True
        if self.has_image():
            self.fitInView(self._image_rect.adjusted(-8, -8, 8, 8), Qt.KeepAspectRatio)
        else:
            self.resetTransform()
        self._update_item_scale()

    def _update_item_scale(self) -> None:
        s = self.zoom()
        # Smooth-scaling a big photo on every repaint (each mouse move while drawing)
        # is the costliest part of a paint; cache it while it is shown shrunk.
        # Zoomed in, the cache would be larger than the image, so paint directly.
        self._pixmap_item.setCacheMode(QGraphicsPixmapItem.DeviceCoordinateCache if s <= 1.0
                                       else QGraphicsPixmapItem.NoCache)
        for it in self._items:
            it.set_view_scale(s)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fit:
            self.fit()

    def wheelEvent(self, event) -> None:
        if event.modifiers() & Qt.ControlModifier:
            steps = event.angleDelta().y() / 120.0
            if steps:
                self.zoom_by(ZOOM_STEP ** steps)
            event.accept()
            return
        super().wheelEvent(event)

    # -- mouse ----------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MiddleButton or (
                event.button() == Qt.LeftButton and self._space_down):
            self._pan_from = event.position().toPoint()
            self._space_panned = True
            self.viewport().setCursor(Qt.ClosedHandCursor)
            event.accept()
            return
        if self._drawing and event.button() == Qt.LeftButton:
            self._draw_from = self._clamp(self.mapToScene(event.position().toPoint()))
            self._draw_to = QPointF(self._draw_from)
            event.accept()
            return
        if event.button() == Qt.RightButton and self._drawing:
            self.set_draw_mode(False)
            return
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event) -> None:
        if not self._drawing and event.button() == Qt.LeftButton:
            for item in self.items(event.position().toPoint()):
                if isinstance(item, BoxItem):
                    self.boxActivated.emit(item.index)
                    event.accept()
                    return
        super().mouseDoubleClickEvent(event)

    def mouseMoveEvent(self, event) -> None:
        pos = event.position().toPoint()
        if self._pan_from is not None:
            d = pos - self._pan_from
            self._pan_from = pos
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - d.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - d.y())
            return
        self._cursor = self.mapToScene(pos)
        if self._drawing:
            if self._draw_from is not None:
                self._draw_to = self._clamp(self._cursor)
            self.viewport().update()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._pan_from is not None and event.button() in (Qt.MiddleButton, Qt.LeftButton):
            self._pan_from = None
            self.viewport().setCursor(Qt.CrossCursor if self._drawing else Qt.ArrowCursor)
            return
        if self._drawing and self._draw_from is not None and event.button() == Qt.LeftButton:
            self._draw_to = self._clamp(self.mapToScene(event.position().toPoint()))
            rect = QRectF(self._draw_from, self._draw_to).normalized()
            self._draw_from = None
            minimum = MIN_DRAW_PX / max(self.zoom(), 1e-6)
            if rect.width() >= minimum and rect.height() >= minimum:
                self.set_draw_mode(False)
                self.boxDrawn.emit(rect)
            self.viewport().update()
            return
        super().mouseReleaseEvent(event)

    def leaveEvent(self, event) -> None:
        self._cursor = QPointF(-1, -1)
        self.viewport().update()
        super().leaveEvent(event)

    # -- keys -----------------------------------------------------------
    def event(self, event) -> bool:
        # Space is ours while the canvas has focus: held it pans, tapped it verifies.
        if event.type() == QEvent.ShortcutOverride and event.key() in (Qt.Key_Space, Qt.Key_Escape):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key_Space:
            if not event.isAutoRepeat():
                self._space_down, self._space_panned = True, False
            event.accept()
            return
        if event.key() == Qt.Key_Escape:
            self.set_draw_mode(False)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space_down = False
            if not self._space_panned:
                self.spaceTapped.emit()
            event.accept()
            return
        super().keyReleaseEvent(event)

    # -- overlay --------------------------------------------------------
    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        if not self.has_image():
            self._paint_message(painter)
            return
        if not self._drawing:
            return
        pen = QPen(QColor(255, 255, 255, 200), 1, Qt.DashLine)
        pen.setCosmetic(True)
        painter.setPen(pen)
        r, c = self._image_rect, self._cursor
        if r.contains(c):  # the crosshair spans the image, as in LabelImg
            painter.drawLine(QPointF(r.left(), c.y()), QPointF(r.right(), c.y()))
            painter.drawLine(QPointF(c.x(), r.top()), QPointF(c.x(), r.bottom()))
        if self._draw_from is not None:
            pen = QPen(QColor("#ffd60a"), 2)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(QColor(255, 214, 10, 40))
            painter.drawRect(QRectF(self._draw_from, self._draw_to).normalized())

    def _paint_message(self, painter: QPainter) -> None:
        if not self._message:
            return
        painter.save()
        painter.resetTransform()
        font = QFont()
        font.setPixelSize(15)
        painter.setFont(font)
        painter.setPen(QColor("#ffb4a8"))
        area = self.viewport().rect().adjusted(40, 40, -40, -40)
        painter.drawText(area, Qt.AlignCenter | Qt.TextWordWrap, self._message)
        painter.restore()
