"""The one image reader of the app: sizes from the header, a pixel budget, then decoding.

Every part that opens an image file (labeller, training, detect, eval,
anchors, the preview's folder source) goes through :func:`read_image` or
:func:`image_size`, so each refusal and each decode failure is the same
:class:`ImageFileError` naming the file, and the caller goes on past it.

The size is read from the file header before anything is decoded (JPEG,
PNG, BMP, TIFF, WebP, PNM), and an image above the pixel budget
(:func:`max_pixels`) is refused: a 2 KB file whose header claims
60000 x 60000 px would otherwise make OpenCV allocate gigabytes or raise its
own ``cv2.error``.

Pixels are used as stored: EXIF orientation is ignored on purpose, because
LabelImg and Qt's image reader ignore it too, so boxes drawn by those tools
stay aligned with what we decode, and the header size matches the pixels.
"""
from __future__ import annotations

import io
import os
import struct
from pathlib import Path

import cv2
import numpy as np

from .boxes import Letterbox, letterbox_params
from .errors import ConfigError, ImageFileError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
_READ_FLAGS = cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION
_PAD_VALUE = 128

# Pillow's hard limit (twice its 89.5 MP "decompression bomb" warning): it
# passes every camera up to 100+ MP medium format (11648 x 8736 = 102 MP),
# while one decoded image at the limit is already 537 MB of BGR, before the
# labeller's BGRA and QImage copies or the training pipeline's parallel reads.
# OpenCV's own limit (2^30 px) would let a single read take 3 GB.
DEFAULT_MAX_PIXELS = 178_956_970
MAX_PIXELS_ENV = "YOLO_STUDIO_MAX_PIXELS"
# Module setting for embedding code and tests; the environment variable wins.
MAX_PIXELS: int = DEFAULT_MAX_PIXELS


def max_pixels() -> int:
    """The pixel budget: ``$YOLO_STUDIO_MAX_PIXELS`` if set, else :data:`MAX_PIXELS`."""
    raw = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if not raw:
        return int(MAX_PIXELS)
    try:
        value = int(float(raw)) if raw.lower().count("e") == 1 else int(raw.replace("_", ""))
    except (ValueError, OverflowError):
        value = 0
    if value < 1:
        raise ConfigError(f"{MAX_PIXELS_ENV}={raw!r} must be a whole number of pixels above 0 "
                          f"(default {DEFAULT_MAX_PIXELS})")
    return value


def is_image_file(name: str | Path) -> bool:
    """True when the file name has an image extension we can read."""
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def list_images(folder: str | Path) -> list[Path]:
    """Image files directly in ``folder``, sorted by name."""
    folder = Path(folder)
    return sorted(p for p in folder.iterdir() if is_image_file(p.name) and p.is_file())


def read_image(path: str | Path) -> np.ndarray:
    """Decode ``path`` as a BGR uint8 (H, W, 3) array; ImageFileError if it cannot be.

    The header size is checked against the pixel budget before decoding.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise ImageFileError(path, "image file not found") from None
    except OSError as e:   # a folder, a permission, an I/O error
        raise ImageFileError(path, f"cannot be read ({e.strerror or e})") from None
    if not raw:
        raise ImageFileError(path, "is empty (0 bytes), not an image")
    if _check_size(path, _header_size(io.BytesIO(raw))) is None:
        # OpenCV picks the decoder from the content, not the name: a 300-byte
        # JPEG 2000 (or Radiance, Sun raster, PAM) file named .jpg would decode
        # to gigabytes before the budget could be checked, so a file whose
        # header we cannot size is never handed to it.
        raise ImageFileError(path, "cannot be decoded as an image (not a JPEG, PNG, BMP, TIFF, WebP "
                                   "or PNM file, or its header is damaged)")
    data = np.frombuffer(raw, dtype=np.uint8)
    try:
        image = cv2.imdecode(data, _READ_FLAGS)
    except cv2.error as e:   # OpenCV's own size limits, or a decoder that throws
        raise ImageFileError(path, f"cannot be decoded as an image ({_cv_reason(e)})") from None
    except MemoryError:
        raise ImageFileError(path, "cannot be decoded: not enough memory") from None
    if image is None:
        raise ImageFileError(path, "cannot be decoded as an image (corrupt or unsupported format)")
    h, w = image.shape[:2]
    _check_size(path, (w, h))   # a header that lied about the size
    return image


def image_size(path: str | Path) -> tuple[int, int]:
    """(width, height) from the file header, decoding only for formats we cannot parse.

    ImageFileError if the file is missing, broken, or above the pixel budget.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            size = _header_size(f)
    except FileNotFoundError:
        raise ImageFileError(path, "image file not found") from None
    except OSError as e:
        raise ImageFileError(path, f"cannot be read ({e.strerror or e})") from None
    if size is not None:
        return _check_size(path, size)
    h, w = read_image(path).shape[:2]
    return w, h


def _check_size(path: Path, size: tuple[int, int] | None) -> tuple[int, int] | None:
    """``size`` if it is a usable image size within the budget, else ImageFileError."""
    if size is None:
        return None
    w, h = int(size[0]), int(size[1])
    if w <= 0 or h <= 0:
        raise ImageFileError(path, f"header says the image is {w}x{h} px (damaged file)")
    try:
        budget = max_pixels()
    except ConfigError as e:   # every caller already goes on past an ImageFileError
        raise ImageFileError(path, f"cannot be checked: {e}") from None
    if w * h > budget:
        raise ImageFileError(
            path, f"header says the image is {w}x{h} px ({w * h / 1e6:.0f} megapixels), above the "
                  f"{budget / 1e6:.0f}-megapixel limit; shrink the image, or raise the limit with "
                  f"the {MAX_PIXELS_ENV} environment variable if it is genuine")
    return w, h


def _cv_reason(e: cv2.error) -> str:
    text = getattr(e, "err", None) or str(e)
    return " ".join(text.split())[:160] or "OpenCV error"


def _header_size(f) -> tuple[int, int] | None:
    """(w, h) from the header of an open binary file; None for formats we do not parse."""
    head = f.read(32)
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
        return struct.unpack(">II", head[16:24])
    if head.startswith(b"BM") and len(head) >= 26:
        w, h = struct.unpack("<ii", head[18:26])
        return abs(w), abs(h)
    if head.startswith(b"\xff\xd8"):
        f.seek(2)
        return _jpeg_size(f)
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return _tiff_size(f, "<" if head[:2] == b"II" else ">")
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return _webp_size(head)
    if len(head) >= 2 and head[0:1] == b"P" and head[1:2] in b"123456":
        f.seek(0)
        return _pnm_size(f.read(1024))
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


def _tiff_size(f, order: str) -> tuple[int, int] | None:
    """ImageWidth (256) and ImageLength (257) of the first IFD, the page OpenCV decodes."""
    f.seek(4)
    raw = f.read(4)
    if len(raw) < 4:
        return None
    f.seek(struct.unpack(order + "I", raw)[0])
    raw = f.read(2)
    if len(raw) < 2:
        return None
    count = struct.unpack(order + "H", raw)[0]
    entries = f.read(12 * count)
    found = {}
    for k in range(len(entries) // 12):
        tag, kind = struct.unpack(order + "HH", entries[12 * k:12 * k + 4])
        value = entries[12 * k + 8:12 * k + 12]
        if tag in (256, 257) and kind in (3, 4):   # SHORT or LONG
            found[tag] = struct.unpack(order + ("H" if kind == 3 else "I"), value[:2 if kind == 3 else 4])[0]
    if 256 in found and 257 in found:
        return found[256], found[257]
    return None


def _webp_size(head: bytes) -> tuple[int, int] | None:
    """Canvas size of a WebP: lossy (VP8), lossless (VP8L) or extended (VP8X)."""
    chunk = head[12:16]
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", head[26:30])
        return w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8L" and head[20:21] == b"\x2f":
        bits = struct.unpack("<I", head[21:25])[0]
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return (int.from_bytes(head[24:27], "little") + 1,
                int.from_bytes(head[27:30], "little") + 1)
    return None


def _pnm_size(head: bytes) -> tuple[int, int] | None:
    """Width and height of a PBM/PGM/PPM (text fields after the magic, # comments allowed)."""
    fields = []
    for line in head[2:].split(b"\n"):
        fields += line.split(b"#", 1)[0].split()
        if len(fields) >= 2:
            break
    try:
        return int(fields[0]), int(fields[1])
    except (IndexError, ValueError):
        return None


def letterbox_image(image: np.ndarray, size: int | tuple[int, int],
                    bgr_to_rgb: bool = False) -> tuple[np.ndarray, Letterbox]:
    """Resize keeping aspect ratio and pad with grey to ``size``; returns (image, params).

    ``bgr_to_rgb`` swaps the channels of a 3-channel image after the resize: the
    same pixels as swapping first (the resize treats channels alone), on the small
    image rather than the camera frame.
    """
    h, w = image.shape[:2]
    lb = letterbox_params(w, h, size)
    tw, th = (size, size) if isinstance(size, int) else size
    resized = cv2.resize(image, (lb.new_w, lb.new_h), interpolation=cv2.INTER_LINEAR)
    if bgr_to_rgb:
        resized = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB)
    out = np.full((th, tw) + image.shape[2:], _PAD_VALUE, dtype=image.dtype)
    out[int(lb.dy):int(lb.dy) + lb.new_h, int(lb.dx):int(lb.dx) + lb.new_w] = resized
    return out, lb
