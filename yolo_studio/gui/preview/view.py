"""The preview's video view: the frame, its detections in class colours, and the figures."""
from __future__ import annotations

import colorsys
import time

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget


def class_color(class_id: int) -> QColor:
    """A bright colour per class, far from its neighbours (golden-ratio hue steps)."""
    hue = (0.03 + 0.618033988749895 * int(class_id)) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.85, 1.0)
    return QColor(int(r * 255), int(g * 255), int(b * 255))


def rgb_to_qimage(rgb: np.ndarray) -> tuple[QImage, np.ndarray]:
    """A QImage over an RGB uint8 (H, W, 3) array's memory, and the array it reads.

    No copy: copying a view-sized frame cost ~4 ms of the GUI thread per frame
    under load (a fresh 2 MB allocation), against 0.3 ms for the paint. The
    caller keeps the returned array as long as the QImage; the preview never
    writes into a frame once it is sent to the GUI thread.
    """
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888), rgb


class PreviewView(QWidget):
    """Paints the newest result only; earlier ones that were never painted are skipped."""

    # draw_ms, grab->paint ms of a frame painted for the first time
    framePainted = Signal(float, float)
    # (w, h) in device pixels: the detector thread pre-scales frames to it
    displaySizeChanged = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.image: QImage | None = None
        self._pixels: np.ndarray | None = None   # the memory ``image`` reads
        self.source_size = (0, 0)  # the frame's own pixels, which detections refer to
        self.detections: list = []
        self.frame_index = -1
        self.hud_lines: list[str] = []
        self.message = "Pick a source and a model, then press Start."
        # detection -> QColor; the panel sets one matching the labeller's colours
        self.color_for = lambda d: class_color(d.class_id)
        self._t_grabbed = None  # set until the new frame has been painted once

    def show_result(self, result) -> None:
        """Take a detector result (RGB frame + detections) and schedule a paint."""
        pixels = result.rgb if result.display is None else result.display
        self.image, self._pixels = rgb_to_qimage(pixels)   # the QImage reads _pixels
        self.source_size = (result.rgb.shape[1], result.rgb.shape[0])
        self.detections = list(result.detections)
        self.frame_index = result.index
        self._t_grabbed = result.t_grabbed
        self.update()

    def set_message(self, text: str) -> None:
        """A line shown over the view (or alone when there is no frame)."""
        self.message = text
        self.update()

    def clear(self) -> None:
        self.image = self._pixels = None
        self.detections = []
        self.update()

    def display_size(self) -> tuple[int, int]:
        """The view's size in device pixels."""
        dpr = self.devicePixelRatioF()
        return (round(self.width() * dpr), round(self.height() * dpr))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.displaySizeChanged.emit(self.display_size())

    def image_rect(self) -> QRectF:
        """Where the frame lands in the widget: fitted, aspect kept, centred."""
        if self.image is None:
            return QRectF()
        iw, ih = self.source_size
        scale = min(self.width() / iw, self.height() / ih)
        w, h = iw * scale, ih * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def paintEvent(self, event) -> None:
        t0 = time.perf_counter()
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(24, 24, 28))
        if self.image is not None:
            rect = self.image_rect()
            self._draw_frame(p, rect)
            self._draw_detections(p, rect)
        self._draw_hud(p)
        self._draw_message(p)
        p.end()
        if self._t_grabbed is not None:
            t1 = time.perf_counter()
            latency = (t1 - self._t_grabbed) * 1000.0
            self._t_grabbed = None
            self.framePainted.emit((t1 - t0) * 1000.0, latency)

    def _draw_frame(self, p: QPainter, rect: QRectF) -> None:
        dpr = self.devicePixelRatioF()
        if abs(self.image.width() - rect.width() * dpr) <= 1.5 and \
                abs(self.image.height() - rect.height() * dpr) <= 1.5:
            self.image.setDevicePixelRatio(dpr)
            p.drawImage(rect.topLeft(), self.image)  # pre-scaled: a plain copy
        else:  # the view was just resized: scale here until frames catch up
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            p.drawImage(rect, self.image)

    def _draw_detections(self, p: QPainter, rect: QRectF) -> None:
        sx = rect.width() / self.source_size[0]
        sy = rect.height() / self.source_size[1]
        font = QFont(self.font())
        font.setPointSizeF(9)
        font.setBold(True)
        p.setFont(font)
        fm = QFontMetricsF(font)
        colors = {}   # per label, once a paint: the lookup reads the user's colour settings
        for d in self.detections:
            color = colors.get(d.label)
            if color is None:
                color = colors[d.label] = self.color_for(d)
            box = QRectF(rect.x() + d.x1 * sx, rect.y() + d.y1 * sy,
                         (d.x2 - d.x1) * sx, (d.y2 - d.y1) * sy)
            p.setPen(QPen(color, 2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(box)
            text = f"{d.label} {d.score:.2f}"
            tw, th = fm.horizontalAdvance(text) + 6, fm.height() + 2
            # The tag sits above the box, or inside it when the box touches the top.
            ty = box.top() - th if box.top() - th >= rect.top() else box.top()
            tag = QRectF(box.left() - 1, ty, tw, th)
            p.fillRect(tag, color)
            p.setPen(QColor(0, 0, 0) if color.lightness() > 140 else QColor(255, 255, 255))
            p.drawText(tag.adjusted(3, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, text)

    def _draw_hud(self, p: QPainter) -> None:
        if not self.hud_lines or self.image is None:
            return
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setPointSizeF(9)
        p.setFont(font)
        fm = QFontMetricsF(font)
        w = max(fm.horizontalAdvance(line) for line in self.hud_lines) + 12
        h = fm.height() * len(self.hud_lines) + 8
        p.fillRect(QRectF(6, 6, w, h), QColor(0, 0, 0, 160))
        p.setPen(QColor(235, 235, 235))
        for i, line in enumerate(self.hud_lines):
            p.drawText(QRectF(12, 10 + i * fm.height(), w, fm.height()),
                       Qt.AlignmentFlag.AlignVCenter, line)

    def _draw_message(self, p: QPainter) -> None:
        if not self.message:
            return
        font = QFont(self.font())
        font.setPointSizeF(11)
        p.setFont(font)
        fm = QFontMetricsF(font)
        box = QRectF(20, 0, self.width() - 40, self.height())
        bounds = fm.boundingRect(box, int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignCenter),
                                 self.message)
        if self.image is not None:  # over a frame: a band at the bottom
            bounds.moveBottom(self.height() - 12)
        back = bounds.adjusted(-10, -6, 10, 6)
        p.fillRect(back, QColor(0, 0, 0, 180))
        p.setPen(QColor(240, 240, 240))
        p.drawText(bounds, int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignCenter), self.message)
