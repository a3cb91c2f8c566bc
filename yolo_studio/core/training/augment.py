"""Training augmentations in numpy/cv2 that keep every box valid (on RGB uint8 images)."""
from __future__ import annotations

import cv2
import numpy as np


def mirror(image: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mirror left-right."""
    w = image.shape[1]
    out = boxes.copy()
    out[:, [0, 2]] = w - boxes[:, [2, 0]]
    return image[:, ::-1], out


def random_crop(image, boxes, rng, max_empty_cut: float = 0.25):
    """Cut away part of the margin around all boxes (never a box itself)."""
    h, w = image.shape[:2]
    if len(boxes):
        x1, y1 = np.floor(boxes[:, :2].min(axis=0))
        x2, y2 = np.ceil(boxes[:, 2:].max(axis=0))
    else:  # a negative: any crop keeping most of it
        x1, y1, x2, y2 = w * max_empty_cut, h * max_empty_cut, w * (1 - max_empty_cut), h * (1 - max_empty_cut)
    left = int(rng.uniform(0, max(x1, 0)))
    top = int(rng.uniform(0, max(y1, 0)))
    right = int(w - rng.uniform(0, max(w - x2, 0)))
    bottom = int(h - rng.uniform(0, max(h - y2, 0)))
    if right - left < 8 or bottom - top < 8:
        return image, boxes
    out = boxes.copy()
    out[:, [0, 2]] -= left
    out[:, [1, 3]] -= top
    return image[top:bottom, left:right], out


def random_translate(image, boxes, rng, pad_value: int = 128):
    """Shift the whole image so that every box stays inside it."""
    h, w = image.shape[:2]
    if len(boxes):
        lo = -np.floor(boxes[:, :2].min(axis=0))
        hi = np.array([w, h]) - np.ceil(boxes[:, 2:].max(axis=0))
    else:
        lo, hi = -np.array([w, h]) * 0.2, np.array([w, h]) * 0.2
    tx = rng.uniform(min(lo[0], 0), max(hi[0], 0)) * 0.5
    ty = rng.uniform(min(lo[1], 0), max(hi[1], 0)) * 0.5
    m = np.array([[1, 0, tx], [0, 1, ty]], dtype=np.float64)
    moved = cv2.warpAffine(image, m, (w, h), borderValue=(pad_value,) * 3)
    out = boxes.copy()
    out[:, [0, 2]] += tx
    out[:, [1, 3]] += ty
    return moved, out


def hsv_jitter(image, rng, hue: float = 0.015, sat: float = 0.5, val: float = 0.3):
    """Random hue shift and saturation/brightness gains (in place of colour-constant training)."""
    gains = rng.uniform(-1, 1, 3) * [hue, sat, val] + 1
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
    x = np.arange(256, dtype=np.float32)
    lut_h = ((x * gains[0]) % 180).astype(np.uint8)
    lut_s = np.clip(x * gains[1], 0, 255).astype(np.uint8)
    lut_v = np.clip(x * gains[2], 0, 255).astype(np.uint8)
    h, s, v = cv2.split(hsv)
    hsv = cv2.merge((cv2.LUT(h, lut_h), cv2.LUT(s, lut_s), cv2.LUT(v, lut_v)))
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def augment(image, boxes, rng, hflip: bool = True):
    """The training mix: flip, crop, translate, colour; boxes follow the pixels.

    ``hflip`` False never mirrors: a mirrored 2, R or left arrow is not the
    same class (or no class at all), so flipping such classes teaches noise.
    The coin is tossed either way, so every other random choice stays the same.
    """
    if rng.random() < 0.5 and hflip:
        image, boxes = mirror(image, boxes)
    if rng.random() < 0.5:
        image, boxes = random_crop(image, boxes, rng)
    if rng.random() < 0.5:
        image, boxes = random_translate(image, boxes, rng)
    image = hsv_jitter(np.ascontiguousarray(image), rng)
    return image, boxes
