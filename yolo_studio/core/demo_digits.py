"""The digits demo: ten glyph classes that look alike, drawn with OpenCV's Hershey fonts.

The shapes demo separates its classes by colour and silhouette, so any recipe
learns it. Digits are what users really train on: classes that differ in a
stroke or two (1/7, 3/8, 5/6, 6/9 under rotation). Every glyph is drawn as a
mask without anti-aliasing, rotated and stretched with nearest-neighbour
sampling, so its box is the exact extent of its ink. Sizes follow the
pylessons MNIST detection set: 14-120 px of glyph height at a 416 px image,
scaled with the image. Backgrounds reuse the shapes demo's gradients, noise
and grey clutter, plus strokes and rings that are no digit. Mirrored digits
are not digits: the project is written with horizontal flip off.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from .annotations import Box

DIGIT_CLASSES = [str(d) for d in range(10)]
FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
         cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX)
REFERENCE_SIDE = 416          # glyph sizes below are for an image of this longer side
GLYPH_HEIGHT = (14, 120)      # px at REFERENCE_SIDE
MAX_PER_IMAGE = 8
EMPTY_FRACTION = 0.05
TRAIN_SETTINGS = {"hflip": False}


def digit_image(rng: np.random.Generator, min_size: int, max_size: int,
                background) -> tuple[np.ndarray, list[Box]]:
    """One BGR image with 0..8 digits and their tight boxes; ``background(rng, w, h)`` paints the base."""
    w, h = (int(v) for v in rng.integers(min_size, max_size + 1, size=2))
    image = background(rng, w, h)
    _distractors(rng, image)
    n = 0 if rng.random() < EMPTY_FRACTION else int(rng.integers(1, MAX_PER_IMAGE + 1))
    boxes = place_objects(n, lambda placed: _place_digit(rng, image, placed))
    sigma = rng.uniform(2, 8)
    image = np.clip(image.astype(np.float32) + rng.normal(0, sigma, image.shape), 0, 255)
    return image.astype(np.uint8), boxes


def place_objects(n: int, place, attempts: int = 30) -> list[Box]:
    """Up to ``n`` boxes, each from ``place(boxes so far)`` (None: no room there; tried ``attempts`` times)."""
    boxes: list[Box] = []
    for _ in range(n):
        for _attempt in range(attempts):
            box = place(boxes)
            if box is not None:
                boxes.append(box)
                break
    return boxes


def object_size(rng: np.random.Generator, scales, w: int, h: int) -> int:
    """An object's side in pixels: a (share, low, high) band of ``scales`` drawn by share, then a
    size in it as a fraction of the image's long side, capped to fit its short side."""
    r = rng.random()
    for p, lo, hi in scales:
        if r < p:
            break
        r -= p
    return int(min(rng.uniform(lo, hi) * max(w, h), 0.9 * min(w, h)))


def glyph_mask(rng: np.random.Generator, digit: int, height: float) -> np.ndarray:
    """A binary mask of one digit about ``height`` px tall: random font, stroke, slant, rotation."""
    font = FONTS[int(rng.integers(len(FONTS)))] | (cv2.FONT_ITALIC if rng.random() < 0.2 else 0)
    text = str(digit)
    (_, ref_h), _ = cv2.getTextSize(text, font, 1.0, 1)
    scale = height / max(ref_h, 1)
    thickness = max(1, int(round(height * rng.uniform(0.04, 0.13))))
    (tw, th), base = cv2.getTextSize(text, font, scale, thickness)
    pad = thickness + 4
    canvas = np.zeros((th + base + 2 * pad, tw + 2 * pad), np.uint8)
    cv2.putText(canvas, text, (pad, pad + th), font, scale, 255, thickness, cv2.LINE_8)
    # Rotation, a little stretch and shear, on a canvas big enough to hold the result.
    angle = math.radians(rng.uniform(-20, 20))
    sx, shear = rng.uniform(0.8, 1.2), rng.uniform(-0.15, 0.15)
    a = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]]) @ \
        np.array([[sx, shear], [0.0, 1.0]])
    ch, cw = canvas.shape
    corners = a @ np.array([[0, cw, cw, 0], [0, 0, ch, ch]], dtype=np.float64)
    lo, hi = corners.min(axis=1), corners.max(axis=1)
    m = np.hstack([a, -lo[:, None]])
    size = (int(math.ceil(hi[0] - lo[0])) + 1, int(math.ceil(hi[1] - lo[1])) + 1)
    mask = cv2.warpAffine(canvas, m, size, flags=cv2.INTER_NEAREST)
    ys, xs = np.nonzero(mask)
    return mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def _place_digit(rng: np.random.Generator, image: np.ndarray, boxes: list[Box]) -> Box | None:
    h, w = image.shape[:2]
    lo, hi = (v * max(w, h) / REFERENCE_SIDE for v in GLYPH_HEIGHT)
    height = math.exp(rng.uniform(math.log(lo), math.log(hi)))     # as many small as large
    height = min(height, 0.8 * min(w, h))
    digit = int(rng.integers(10))
    mask = glyph_mask(rng, digit, height)
    mh, mw = mask.shape
    if mw >= w or mh >= h:
        return None
    x0, y0 = int(rng.integers(0, w - mw + 1)), int(rng.integers(0, h - mh + 1))
    box = Box(float(x0), float(y0), float(x0 + mw), float(y0 + mh), DIGIT_CLASSES[digit])
    gap = 3  # keep digits apart so each box holds exactly one
    if any(box.x1 < b.x2 + gap and b.x1 < box.x2 + gap and box.y1 < b.y2 + gap and b.y1 < box.y2 + gap
           for b in boxes):
        return None
    region = image[y0:y0 + mh, x0:x0 + mw]
    ink = _ink_colour(rng, float(region.mean()))
    region[mask > 0] = ink
    return box


def _ink_colour(rng: np.random.Generator, background: float) -> np.ndarray:
    """Dark ink on light ground and light on dark, always at least 70 grey levels apart."""
    sign = -1.0 if background > 128 else 1.0
    grey = background + sign * rng.uniform(70, 150)
    return np.clip(grey + rng.uniform(-20, 20, size=3), 0, 255).astype(np.uint8)


def _distractors(rng: np.random.Generator, image: np.ndarray) -> None:
    """Strokes, arcs and rings in the background's own greys: ink that is no digit."""
    h, w = image.shape[:2]
    base = float(image.mean())
    for _ in range(int(rng.integers(0, 6))):
        grey = float(np.clip(base + rng.uniform(-60, 60), 0, 255))
        colour = (grey, grey, grey)
        thick = int(rng.integers(1, 4))
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        if rng.random() < 0.5:
            end = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            cv2.line(image, centre, end, colour, thick)
        else:
            r = int(rng.integers(4, max(5, min(w, h) // 6)))
            start = float(rng.uniform(0, 360))
            cv2.ellipse(image, centre, (r, r), 0, start, start + rng.uniform(90, 360), colour, thick)
