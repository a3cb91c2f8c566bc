"""One box on the canvas: outline, label tag, handles to move and resize it.

The item lives in scene coordinates, which are the image's pixels, so its rect
is the box itself. Moves and resizes are shown live and reported once, on
release, as the finished rect: that one report becomes one undo step.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem

HANDLE_PX = 7.0      # handle size on screen, whatever the zoom
GRAB_PX = 6.0        # how close (screen px) to an edge counts as grabbing it
MIN_SIZE = 1.0       # image pixels; a resize never inverts or collapses a box

# handle name -> which rect edges it moves (left, top, right, bottom)
_EDGES = {"tl": "lt", "tr": "rt", "bl": "lb", "br": "rb", "l": "l", "r": "r", "t": "t", "b": "b"}
_CURSORS = {"tl": Qt.SizeFDiagCursor, "br": Qt.SizeFDiagCursor, "tr": Qt.SizeBDiagCursor,
            "bl": Qt.SizeBDiagCursor, "l": Qt.SizeHorCursor, "r": Qt.SizeHorCursor,
            "t": Qt.SizeVerCursor, "b": Qt.SizeVerCursor, "move": Qt.SizeAllCursor}


class BoxItem(QGraphicsItem):
    """A selectable, movable, resizable box kept inside ``bounds`` (the image)."""

    def __init__(self, index: int, rect: QRectF, text: str, color: QColor, bounds: QRectF,
                 predicted: bool = False, on_edit: Callable[[int, QRectF], None] | None = None):
        super().__init__()
        self.index = index
        self._rect = QRectF(rect)
        self._text = text
        self._color = QColor(color)
        self._bounds = QRectF(bounds)
        self.predicted = predicted
        self._on_edit = on_edit
        self._scale = 1.0
        self._drag: str | None = None
        self._press = QPointF()
        self._orig = QRectF()
        self._hover = False
        self._font = QFont()
        self._font.setPixelSize(12)
        self._font.setBold(True)
        self._tag_w = QFontMetricsF(self._font).horizontalAdvance(text) + 8
        self._tag_h = QFontMetricsF(self._font).height() + 2
        self.setFlag(QGraphicsItem.ItemIsSelectable, True)
        self.setAcceptHoverEvents(True)
        # Small boxes on top, so a box inside a bigger one stays clickable.
        self.setZValue(-rect.width() * rect.height())

    # -- geometry -------------------------------------------------------
    def rect(self) -> QRectF:
        """The box in image pixels."""
        return QRectF(self._rect)

    def set_rect(self, rect: QRectF) -> None:
        """Show the box at ``rect`` (image pixels)."""
        self.prepareGeometryChange()
        self._rect = QRectF(rect)

    def set_view_scale(self, scale: float) -> None:
        """Tell the item the view's zoom, so handles and the tag keep their screen size."""
        self.prepareGeometryChange()
        self._scale = max(scale, 1e-6)

    def boundingRect(self) -> QRectF:
        m = (HANDLE_PX + 2) / self._scale
        tag_w = self._tag_w / self._scale
        tag_h = self._tag_h / self._scale
        r = self._rect
        return QRectF(r.left() - m, r.top() - m - tag_h,
                      max(r.width(), tag_w) + 2 * m, r.height() + 2 * m + tag_h)

    # -- painting -------------------------------------------------------
    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        selected = self.isSelected()
        pen = QPen(self._color, 3 if selected else 2)
        pen.setCosmetic(True)
        if self.predicted:
            pen.setStyle(Qt.DashLine)
        painter.setPen(pen)
        fill = QColor(self._color)
        fill.setAlpha(60 if selected else 28 if self._hover else 0)
        painter.setBrush(QBrush(fill))
        painter.drawRect(self._rect)
        self._paint_tag(painter)
        if selected:
            self._paint_handles(painter)

    def _paint_tag(self, painter: QPainter) -> None:
        # Drawn in screen units at the box's corner so it stays readable at any zoom.
        s = self._scale
        top = self._rect.top() - self._tag_h / s
        if top < self._bounds.top():
            top = self._rect.top()  # no room above: tuck the tag inside the box
        painter.save()
        painter.translate(self._rect.left(), top)
        painter.scale(1 / s, 1 / s)
        tag = QRectF(0, 0, self._tag_w, self._tag_h)
        bg = QColor(self._color)
        if self.predicted:
            bg.setAlpha(170)
        painter.setPen(Qt.NoPen)
        painter.setBrush(bg)
        painter.drawRect(tag)
        painter.setPen(QColor("white"))
        painter.setFont(self._font)
        painter.drawText(tag.adjusted(4, 0, 0, 0), Qt.AlignVCenter | Qt.AlignLeft, self._text)
        painter.restore()

    def _paint_handles(self, painter: QPainter) -> None:
        h = HANDLE_PX / self._scale
        painter.setPen(QPen(self._color, 1, Qt.SolidLine, Qt.SquareCap, Qt.MiterJoin))
        painter.setBrush(QColor("white"))
        for p in self._handle_points().values():
            painter.drawRect(QRectF(p.x() - h / 2, p.y() - h / 2, h, h))

    def _handle_points(self) -> dict[str, QPointF]:
        r = self._rect
        cx, cy = r.center().x(), r.center().y()
        return {"tl": r.topLeft(), "tr": r.topRight(), "bl": r.bottomLeft(),
                "br": r.bottomRight(), "l": QPointF(r.left(), cy), "r": QPointF(r.right(), cy),
                "t": QPointF(cx, r.top()), "b": QPointF(cx, r.bottom())}

    # -- interaction ----------------------------------------------------
    def handle_at(self, pos: QPointF) -> str | None:
        """Which handle (or 'move') a point in image pixels grabs, if any."""
        tol = GRAB_PX / self._scale
        if self.isSelected():
            for name, p in self._handle_points().items():
                if abs(pos.x() - p.x()) <= tol and abs(pos.y() - p.y()) <= tol:
                    return name
        if self._rect.adjusted(-tol, -tol, tol, tol).contains(pos):
            return "move"
        return None

    def shape(self):
        from PySide6.QtGui import QPainterPath
        path = QPainterPath()
        tol = GRAB_PX / self._scale
        path.addRect(self._rect.adjusted(-tol, -tol, tol, tol))
        return path

    def hoverMoveEvent(self, event) -> None:
        handle = self.handle_at(event.pos())
        self.setCursor(_CURSORS.get(handle or "", Qt.ArrowCursor))
        if not self._hover:
            self._hover = True
            self.update()

    def hoverLeaveEvent(self, event) -> None:
        self._hover = False
        self.unsetCursor()
        self.update()

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.RightButton:  # the context menu acts on the box under it
            if not self.isSelected():
                self.scene().clearSelection()
                self.setSelected(True)
            event.accept()
            return
        if event.button() != Qt.LeftButton:
            event.ignore()
            return
        super().mousePressEvent(event)  # selection, Ctrl toggles
        self._drag = self.handle_at(event.pos()) or "move"
        self._press = event.scenePos()
        self._orig = QRectF(self._rect)
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        if not self._drag:
            return
        delta = event.scenePos() - self._press
        if self._drag == "move":
            self.set_rect(self._moved(delta))
        else:
            self.set_rect(self._resized(self._drag, event.scenePos()))

    def mouseReleaseEvent(self, event) -> None:
        super().mouseReleaseEvent(event)
        drag, self._drag = self._drag, None
        if drag and self._rect != self._orig and self._on_edit:
            self._on_edit(self.index, QRectF(self._rect))

    def _moved(self, delta: QPointF) -> QRectF:
        r = self._orig.translated(delta)
        b = self._bounds
        # Keep the whole box on the image: shift it back rather than shrink it.
        dx = max(b.left() - r.left(), 0) + min(b.right() - r.right(), 0)
        dy = max(b.top() - r.top(), 0) + min(b.bottom() - r.bottom(), 0)
        return r.translated(dx, dy)

    def _resized(self, handle: str, pos: QPointF) -> QRectF:
        b = self._bounds
        x = min(max(pos.x(), b.left()), b.right())
        y = min(max(pos.y(), b.top()), b.bottom())
        left, top, right, bottom = (self._orig.left(), self._orig.top(),
                                    self._orig.right(), self._orig.bottom())
        edges = _EDGES[handle]
        if "l" in edges:
            left = min(x, right - MIN_SIZE)
        if "r" in edges:
            right = max(x, left + MIN_SIZE)
        if "t" in edges:
            top = min(y, bottom - MIN_SIZE)
        if "b" in edges:
            bottom = max(y, top + MIN_SIZE)
        return QRectF(QPointF(left, top), QPointF(right, bottom))
