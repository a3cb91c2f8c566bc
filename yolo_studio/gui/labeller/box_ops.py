"""Pure edits on an image's list of boxes; each returns a new list (Box is immutable)."""
from __future__ import annotations

from yolo_studio.core.annotations import Box


def clip_box(box: Box, width: float, height: float) -> Box | None:
    """``box`` clipped to the image, or None if nothing of it is left."""
    x1, x2 = sorted((min(max(box.x1, 0.0), width), min(max(box.x2, 0.0), width)))
    y1, y2 = sorted((min(max(box.y1, 0.0), height), min(max(box.y2, 0.0), height)))
    if x2 - x1 < 1 or y2 - y1 < 1:
        return None
    return box.moved(x1=x1, y1=y1, x2=x2, y2=y2)


def set_rect(boxes: list[Box], index: int, rect: tuple[float, float, float, float]) -> list[Box]:
    """Move/resize box ``index``; an edited pre-label becomes a person's box."""
    out = list(boxes)
    x1, y1, x2, y2 = rect
    out[index] = out[index].moved(x1=x1, y1=y1, x2=x2, y2=y2, predicted=False, score=None)
    return out


def relabel(boxes: list[Box], indices, label: str) -> list[Box]:
    """Give the boxes at ``indices`` class ``label`` (accepting them if predicted)."""
    wanted = set(indices)
    return [b.moved(label=label, predicted=False, score=None) if i in wanted else b
            for i, b in enumerate(boxes)]


def delete(boxes: list[Box], indices) -> list[Box]:
    """Boxes without those at ``indices``."""
    gone = set(indices)
    return [b for i, b in enumerate(boxes) if i not in gone]


def accept(boxes: list[Box], indices=None) -> list[Box]:
    """Turn pre-labels (those at ``indices``, or all) into normal boxes."""
    wanted = None if indices is None else set(indices)
    return [b.moved(predicted=False, score=None)
            if b.predicted and (wanted is None or i in wanted) else b
            for i, b in enumerate(boxes)]


def copy_onto(boxes: list[Box], source: list[Box], width: float, height: float) -> list[Box]:
    """``boxes`` plus the boxes of ``source`` clipped to this image, without duplicates."""
    out = list(boxes)
    seen = {(round(b.x1, 2), round(b.y1, 2), round(b.x2, 2), round(b.y2, 2), b.label) for b in out}
    for b in source:
        c = clip_box(b, width, height)
        if c is None:
            continue
        key = (round(c.x1, 2), round(c.y1, 2), round(c.x2, 2), round(c.y2, 2), c.label)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def nudge(boxes: list[Box], indices, dx: float, dy: float, width: float, height: float) -> list[Box]:
    """Shift the boxes at ``indices`` by (dx, dy), stopping at the image's edges."""
    out = list(boxes)
    for i in indices:
        b = out[i]
        sx = min(max(dx, -b.x1), width - b.x2)
        sy = min(max(dy, -b.y1), height - b.y2)
        out[i] = b.moved(x1=b.x1 + sx, y1=b.y1 + sy, x2=b.x2 + sx, y2=b.y2 + sy,
                         predicted=False, score=None)
    return out


def duplicate(boxes: list[Box], indices, offset: float, width: float, height: float) -> list[Box]:
    """``boxes`` plus a copy of each box at ``indices``, shifted by ``offset`` px (kept inside the image)."""
    out = list(boxes)
    for i in indices:
        b = boxes[i]
        copy = nudge([b.moved(predicted=False, score=None)], [0], offset, offset, width, height)[0]
        out.append(copy)
    return out


def set_difficult(boxes: list[Box], indices, difficult: bool) -> list[Box]:
    """Set VOC's ``difficult`` flag of the boxes at ``indices``."""
    wanted = set(indices)
    return [b.moved(difficult=difficult) if i in wanted else b for i, b in enumerate(boxes)]
