"""A file named .jpg whose content is a format we cannot size from its header is never decoded.

Attack review 2026-12-01: OpenCV chooses the decoder from the content, so a
277-byte JPEG 2000 file named ``x.jpg`` passed the header check (no size
found) and was decoded in full, before the pixel budget was checked: at
30000 x 30000 px that is 2.7 GB from a file of under 1 KB.
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from yolo_studio.core import images
from yolo_studio.core.errors import ImageFileError


@pytest.mark.parametrize("ext", [".jp2", ".hdr", ".ras"])
def test_an_image_of_a_format_we_cannot_size_is_refused_before_decoding(tmp_path, monkeypatch, ext):
    pixels = np.zeros((400, 400, 3), np.float32 if ext == ".hdr" else np.uint8)
    ok, buf = cv2.imencode(ext, pixels)
    if not ok:
        pytest.skip(f"this OpenCV cannot write {ext}")
    path = tmp_path / "holiday.jpg"
    path.write_bytes(buf.tobytes())
    monkeypatch.setenv(images.MAX_PIXELS_ENV, "1000")      # far below 400 x 400
    decoded = []
    real = cv2.imdecode
    monkeypatch.setattr(cv2, "imdecode", lambda *a: decoded.append(1) or real(*a))
    for read in (images.read_image, images.image_size):
        with pytest.raises(ImageFileError, match="holiday.jpg: cannot be decoded as an image"):
            read(path)
    assert decoded == []      # refused before a single pixel was decoded
