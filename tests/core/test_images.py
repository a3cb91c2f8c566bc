"""Reading images, their header sizes, and letterboxing."""
import struct

import cv2
import numpy as np
import pytest

from yolo_studio.core.errors import ImageFileError
from yolo_studio.core.images import image_size, letterbox_image, read_image


def _write(path, w, h, flags=()):
    img = np.random.default_rng(0).integers(0, 255, size=(h, w, 3), dtype=np.uint8)
    assert cv2.imwrite(str(path), img, list(flags))
    return img


@pytest.mark.parametrize("ext", [".jpg", ".png", ".bmp", ".tif", ".webp"])
def test_header_size_matches_decoded_size(tmp_path, ext):
    path = tmp_path / f"im{ext}"
    _write(path, 123, 77)
    assert image_size(path) == (123, 77)
    assert read_image(path).shape == (77, 123, 3)


def test_progressive_jpeg_with_exif_segment(tmp_path):
    path = tmp_path / "p.jpg"
    _write(path, 90, 61, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
    data = path.read_bytes()
    # put a large APP1 (EXIF-like) segment before the frame header, as cameras do
    app1 = b"Exif\x00\x00" + bytes(40000)
    data = data[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + data[2:]
    path.write_bytes(data)
    assert image_size(path) == (90, 61)
    assert read_image(path).shape == (61, 90, 3)


def test_bottom_up_bmp_height_is_positive(tmp_path):
    path = tmp_path / "b.bmp"
    _write(path, 20, 10)
    raw = bytearray(path.read_bytes())
    raw[22:26] = struct.pack("<i", -10)        # top-down BMPs store a negative height
    path.write_bytes(bytes(raw))
    assert image_size(path) == (20, 10)


def test_grey_png_is_read_as_three_channel_bgr(tmp_path):
    path = tmp_path / "g.png"
    cv2.imwrite(str(path), np.full((8, 9), 200, np.uint8))
    img = read_image(path)
    assert img.shape == (8, 9, 3) and img.dtype == np.uint8 and (img == 200).all()


def test_non_ascii_path(tmp_path):
    path = tmp_path / "фото ü.png"
    cv2.imencode(".png", np.zeros((5, 6, 3), np.uint8))[1].tofile(str(path))
    assert read_image(path).shape == (5, 6, 3)
    assert image_size(path) == (6, 5)


def test_garbage_file_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"this is not an image at all")
    with pytest.raises(ImageFileError, match="broken.jpg"):
        read_image(path)
    with pytest.raises(ImageFileError, match="broken.jpg"):
        image_size(path)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(ImageFileError, match="not found"):
        image_size(tmp_path / "nope.png")
    with pytest.raises(ImageFileError, match="not found"):
        read_image(tmp_path / "nope.png")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageFileError, match="empty.png"):
        read_image(tmp_path / "empty.png")


def test_letterbox_keeps_aspect_and_pads_grey():
    img = np.zeros((50, 100, 3), np.uint8)
    img[:, :] = (0, 0, 255)
    out, lb = letterbox_image(img, 64)
    assert out.shape == (64, 64, 3)
    assert (lb.new_w, lb.new_h) == (64, 32)
    assert (out[0, 0] == 128).all() and (out[-1, -1] == 128).all()        # padding
    assert (out[int(lb.dy) + 16, 32] == (0, 0, 255)).all()                 # picture, centred
    assert (out[int(lb.dy):int(lb.dy) + lb.new_h] == (0, 0, 255)).all()


@pytest.mark.parametrize("ext,keep", [(".jpg", None), (".png", 33), (".bmp", 54)])
def test_size_comes_from_the_header_alone(tmp_path, ext, keep):
    """A file cut off right after its header still reports its size: nothing is decoded."""
    path = tmp_path / f"cut{ext}"
    _write(path, 321, 123, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1] if ext == ".jpg" else [])
    data = path.read_bytes()
    if keep is None:  # keep the JPEG up to the end of its SOF2 (progressive frame) header
        keep = data.index(b"\xff\xc2") + 2 + 2 + 8
    path.write_bytes(data[:keep])
    assert image_size(path) == (321, 123)
