"""The hard demo: six shape classes with very different box shapes, in clutter, overlapping, under uneven light.

The shapes demo is solved in minutes (mAP@0.5 0.95) and its box sizes lie on
one diagonal, so it can show neither anchor fitting nor which images teach a
model most. Here:
- boxes of every aspect ratio: wide ellipses, long thin bars (lying or
  standing), tall rectangles, square-ish rings, triangles and crosses;
- colour says nothing about the class (every object draws from one palette);
- clutter that looks like parts of objects (strokes, arcs, blobs);
- objects may cover up to ~40% of one another (the box stays the whole
  shape's extent, as a person labels an occluded object);
- small objects (down to ~3% of the image side) beside large ones;
- lighting: a brightness gradient, a gamma and a colour cast per image.
Every shape is drawn without anti-aliasing, so its box is the exact extent of
its mask. Same seed, same bytes.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from .annotations import Box
from .demo_digits import object_size

HARD_CLASSES = ["ellipse", "bar", "ring", "rectangle", "triangle", "cross"]
# (probability, min, max) of the object's longer side as a fraction of the image's longer side.
SCALES = [(0.35, 0.05, 0.12), (0.40, 0.12, 0.25), (0.25, 0.25, 0.45)]
MIN_SIDE_PX = 3            # a bar's short side never gets thinner than this
MAX_PER_IMAGE = 7
EMPTY_FRACTION = 0.05
MAX_HIDDEN = 0.4           # at most this fraction of an object may be covered by later ones
_PALETTE_BGR = [(40, 40, 215), (45, 185, 45), (215, 105, 30), (30, 200, 220), (200, 60, 200),
                (230, 230, 230), (35, 35, 35), (60, 140, 255)]


def hard_image(rng: np.random.Generator, min_size: int, max_size: int,
               background) -> tuple[np.ndarray, list[Box]]:
    """One BGR image with 0..7 objects and their boxes; ``background(rng, w, h)`` paints the base."""
    w, h = (int(v) for v in rng.integers(min_size, max_size + 1, size=2))
    image = background(rng, w, h)
    _clutter(rng, image)
    owner = np.full((h, w), -1, np.int16)   # which object each pixel shows (for occlusion)
    areas: list[int] = []
    boxes: list[Box] = []
    n = 0 if rng.random() < EMPTY_FRACTION else int(rng.integers(1, MAX_PER_IMAGE + 1))
    for _ in range(n):
        for _attempt in range(30):
            if _place(rng, image, owner, areas, boxes):
                break
    image = _lighting(rng, image)
    noise = rng.normal(0, rng.uniform(2, 6), image.shape)
    return np.clip(image.astype(np.float32) + noise, 0, 255).astype(np.uint8), boxes


def shape_mask(rng: np.random.Generator, label: str, size: int) -> np.ndarray:
    """A tight binary mask of one ``label`` shape whose longer side is about ``size`` px."""
    size = max(int(size), 8)
    canvas = np.zeros((size + 4, size + 4), np.uint8)
    c = (size + 4) / 2.0
    if label == "ellipse":                       # wide: aspect 1.7-2.8
        axes = (size // 2, max(2, int(size / 2 / rng.uniform(1.7, 2.8))))
        cv2.ellipse(canvas, (int(c), int(c)), axes, float(rng.uniform(-12, 12)), 0, 360, 255, -1)
    elif label == "bar":                         # aspect 4-9, lying or standing
        thick = max(MIN_SIDE_PX, int(size / rng.uniform(4, 9)))
        x0 = int(c - size / 2)
        cv2.rectangle(canvas, (x0, int(c - thick / 2)), (x0 + size - 1, int(c - thick / 2) + thick - 1), 255, -1)
        if rng.random() < 0.5:
            canvas = np.ascontiguousarray(canvas.T)
    elif label == "ring":
        r = size // 2
        cv2.circle(canvas, (int(c), int(c)), r, 255, -1)
        cv2.circle(canvas, (int(c), int(c)), max(1, int(r * rng.uniform(0.45, 0.7))), 0, -1)
    elif label == "rectangle":                   # tall: aspect 0.35-0.7
        half_w = max(2, int(size / 2 * rng.uniform(0.35, 0.7)))
        cv2.rectangle(canvas, (int(c) - half_w, int(c - size / 2)), (int(c) + half_w, int(c + size / 2) - 1),
                      255, -1)
    elif label == "triangle":
        _poly(canvas, c, size, [(0.0, -0.5), (0.5, 0.4), (-0.5, 0.4)], rng.uniform(-20, 20))
    else:                                        # cross
        arm = max(MIN_SIDE_PX, int(size * rng.uniform(0.18, 0.3)))
        lo, hi = int(c - size / 2), int(c + size / 2) - 1
        cv2.rectangle(canvas, (lo, int(c - arm / 2)), (hi, int(c - arm / 2) + arm - 1), 255, -1)
        cv2.rectangle(canvas, (int(c - arm / 2), lo), (int(c - arm / 2) + arm - 1, hi), 255, -1)
    ys, xs = np.nonzero(canvas)
    return canvas[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def _poly(canvas: np.ndarray, c: float, size: int, corners, angle_deg: float) -> None:
    a = math.radians(angle_deg)
    pts = np.array([[c + size * (x * math.cos(a) - y * math.sin(a)), c + size * (x * math.sin(a) + y * math.cos(a))]
                    for x, y in corners])
    cv2.fillPoly(canvas, [np.round(pts).astype(np.int32)], 255)


def _place(rng, image, owner, areas, boxes) -> bool:
    """Draw one object if it leaves every earlier one at least 60% visible; True if drawn."""
    h, w = image.shape[:2]
    size = object_size(rng, SCALES, w, h)
    label = HARD_CLASSES[int(rng.integers(len(HARD_CLASSES)))]
    mask = shape_mask(rng, label, size) > 0
    mh, mw = mask.shape
    if mw >= w or mh >= h:
        return False
    x0, y0 = int(rng.integers(0, w - mw + 1)), int(rng.integers(0, h - mh + 1))
    covered = owner[y0:y0 + mh, x0:x0 + mw][mask]
    for k in np.unique(covered[covered >= 0]):
        still = int((owner == k).sum()) - int((covered == k).sum())
        if still < (1 - MAX_HIDDEN) * areas[k]:
            return False
    colour = np.array(_PALETTE_BGR[int(rng.integers(len(_PALETTE_BGR)))]) + rng.integers(-25, 26, size=3)
    image[y0:y0 + mh, x0:x0 + mw][mask] = np.clip(colour, 0, 255).astype(np.uint8)
    owner[y0:y0 + mh, x0:x0 + mw][mask] = len(areas)
    areas.append(int(mask.sum()))
    boxes.append(Box(float(x0), float(y0), float(x0 + mw), float(y0 + mh), label))
    return True


def _clutter(rng: np.random.Generator, image: np.ndarray) -> None:
    """Strokes, arcs and blobs in object colours that are no object (drawn before the objects)."""
    h, w = image.shape[:2]
    for _ in range(int(rng.integers(3, 12))):
        colour = tuple(int(v) for v in np.clip(np.array(_PALETTE_BGR[int(rng.integers(len(_PALETTE_BGR)))])
                                               * rng.uniform(0.6, 1.0), 0, 255))
        p1 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        kind = int(rng.integers(3))
        if kind == 0:
            p2 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            cv2.line(image, p1, p2, colour, int(rng.integers(1, 3)))
        elif kind == 1:
            r = int(rng.integers(4, max(5, min(w, h) // 5)))
            start = float(rng.uniform(0, 360))
            cv2.ellipse(image, p1, (r, r), 0, start, start + float(rng.uniform(40, 200)), colour, 1)
        else:
            pts = np.array(p1) + rng.integers(-8, 9, size=(5, 2))
            cv2.fillPoly(image, [pts.astype(np.int32)], colour)


def _lighting(rng: np.random.Generator, image: np.ndarray) -> np.ndarray:
    """A linear brightness ramp (0.55-1.35), a gamma and a slight colour cast."""
    h, w = image.shape[:2]
    angle = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = xx * math.cos(angle) + yy * math.sin(angle)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1.0)
    lo, hi = rng.uniform(0.55, 0.9), rng.uniform(1.0, 1.35)
    gain = lo + (hi - lo) * t
    cast = rng.uniform(0.9, 1.1, size=3)
    out = image.astype(np.float32) / 255.0 * gain[..., None] * cast[None, None, :]
    out = np.clip(out, 0, 1) ** rng.uniform(0.75, 1.35)
    return out * 255.0
