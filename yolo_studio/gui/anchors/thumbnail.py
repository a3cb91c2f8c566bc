"""A small picture of one box in its image, for the anchors view's "which box is this?"."""
from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap

from yolo_studio.core.errors import YoloStudioError
from yolo_studio.core.images import read_image

MARGIN = 0.6        # context around the box, as a fraction of its size on each side
MIN_CONTEXT = 24    # pixels of context at least, so a tiny box is not all there is


def box_thumbnail(image_path, xyxy, width: int = 180, height: int = 135,
                  color: QColor = QColor("#ff3b30")) -> QPixmap | None:
    """The box ``xyxy`` (image pixels) with some of its surroundings, outlined; None if unreadable."""
    try:
        bgr = read_image(image_path)
    except (YoloStudioError, OSError):
        return None
    h, w = bgr.shape[:2]
    x1, y1, x2, y2 = xyxy
    mx = max((x2 - x1) * MARGIN, MIN_CONTEXT)
    my = max((y2 - y1) * MARGIN, MIN_CONTEXT)
    cx1, cy1 = int(max(0, x1 - mx)), int(max(0, y1 - my))
    cx2, cy2 = int(min(w, np.ceil(x2 + mx))), int(min(h, np.ceil(y2 + my)))
    if cx2 <= cx1 or cy2 <= cy1:
        return None
    rgb = np.ascontiguousarray(cv2.cvtColor(bgr[cy1:cy2, cx1:cx2], cv2.COLOR_BGR2RGB))
    crop = QImage(rgb.data, rgb.shape[1], rgb.shape[0], rgb.strides[0], QImage.Format_RGB888)
    scale = min(width / crop.width(), height / crop.height())
    pixmap = QPixmap.fromImage(crop.scaled(max(1, round(crop.width() * scale)),
                                           max(1, round(crop.height() * scale)),
                                           Qt.KeepAspectRatio, Qt.SmoothTransformation))
    painter = QPainter(pixmap)
    painter.setPen(QPen(color, 2))
    painter.drawRect(QRectF((x1 - cx1) * scale, (y1 - cy1) * scale,
                            (x2 - x1) * scale, (y2 - y1) * scale))
    painter.end()
    return pixmap
