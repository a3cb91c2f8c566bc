"""Reading images and their sizes, and letterboxing them for the network.

Pixels are used as stored: EXIF orientation is ignored on purpose, because
LabelImg and Qt's image reader ignore it too, so boxes drawn by those tools
stay aligned with what we decode, and the header size matches the pixels.
"""
from __future__ import annotations

import os
import struct
from pathlib import Path

import cv2
import numpy as np

from .boxes import Letterbox, letterbox_params
from .errors import ImageFileError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
_READ_FLAGS = cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION
_PAD_VALUE = 128


def is_image_file(name: str | Path) -> bool:
    """True when the file name has an image extension we can read."""
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def read_image(path: str | Path) -> np.ndarray:
    """Decode ``path`` as a BGR uint8 (H, W, 3) array; ImageFileError if it cannot be."""
    path = Path(path)
    try:
        data = np.fromfile(str(path), dtype=np.uint8)  # np.fromfile copes with non-ASCII paths
    except FileNotFoundError:
        raise ImageFileError(path, "image file not found") from None
    except OSError as e:
        raise ImageFileError(path, f"cannot be read ({e.strerror or e})") from None
    image = cv2.imdecode(data, _READ_FLAGS) if data.size else None
    if image is None:
        raise ImageFileError(path, "cannot be decoded as an image (corrupt or unsupported format)")
    return image


def image_size(path: str | Path) -> tuple[int, int]:
    """(width, height) from the file header (JPEG/PNG/BMP), decoding only as a fallback."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            size = _header_size(f)
    except FileNotFoundError:
        raise ImageFileError(path, "image file not found") from None
    except OSError as e:
        raise ImageFileError(path, f"cannot be read ({e.strerror or e})") from None
    if size is not None and size[0] > 0 and size[1] > 0:
        return size
    h, w = read_image(path).shape[:2]
    return w, h


def _header_size(f) -> tuple[int, int] | None:
    head = f.read(32)
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
        return struct.unpack(">II", head[16:24])
    if head.startswith(b"BM") and len(head) >= 26:
        w, h = struct.unpack("<ii", head[18:26])
        return abs(w), abs(h)
    if head.startswith(b"\xff\xd8"):
        f.seek(2)
        return _jpeg_size(f)
    return None


# SOF markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) do not.
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(f) -> tuple[int, int] | None:
    while True:
        byte = f.read(1)
        while byte and byte != b"\xff":       # tolerate garbage between segments
            byte = f.read(1)
        marker = f.read(1)
        while marker == b"\xff":               # fill bytes
            marker = f.read(1)
        if not marker:
            return None
        code = marker[0]
        if code in (0x01, 0xD8) or 0xD0 <= code <= 0xD7:
            continue                            # markers without a length field
        if code == 0xD9:
            return None
        raw = f.read(2)
        if len(raw) < 2:
            return None
        length = struct.unpack(">H", raw)[0]
        if code in _SOF_MARKERS:
            data = f.read(5)
            if len(data) < 5:
                return None
            h, w = struct.unpack(">HH", data[1:5])
            return w, h
        f.seek(length - 2, 1)


def letterbox_image(image: np.ndarray, size: int | tuple[int, int]) -> tuple[np.ndarray, Letterbox]:
    """Resize keeping aspect ratio and pad with grey to ``size``; returns (image, params)."""
    h, w = image.shape[:2]
    lb = letterbox_params(w, h, size)
    tw, th = (size, size) if isinstance(size, int) else size
    resized = cv2.resize(image, (lb.new_w, lb.new_h), interpolation=cv2.INTER_LINEAR)
    out = np.full((th, tw) + image.shape[2:], _PAD_VALUE, dtype=image.dtype)
    out[int(lb.dy):int(lb.dy) + lb.new_h, int(lb.dx):int(lb.dx) + lb.new_w] = resized
    return out, lb
