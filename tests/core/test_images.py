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


# --- the pixel budget and hostile headers (review rows 55, 56, 59) ---------------------------

def test_jpeg_whose_header_claims_60000_px_is_refused_by_name_before_decoding(tmp_path, forge_header_size):
    path = tmp_path / "liar.jpg"
    _write(path, 64, 48)
    forge_header_size(path, 60000, 60000)
    for read in (read_image, image_size):
        with pytest.raises(ImageFileError) as info:
            read(path)
        message = str(info.value)
        assert "liar.jpg" in message and "60000x60000" in message
        assert "YOLO_STUDIO_MAX_PIXELS" in message


def test_huge_png_is_refused_from_its_header_and_the_budget_can_be_raised(tmp_path, monkeypatch):
    from yolo_studio.core import images

    path = tmp_path / "wide.png"
    _write(path, 300, 200)
    # a real 20000 x 20000 PNG decodes to 1.2 GB; the budget must stop it from the header alone
    monkeypatch.setattr(images, "MAX_PIXELS", 300 * 200 - 1)
    with pytest.raises(ImageFileError, match="wide.png.*300x200"):
        read_image(path)
    with pytest.raises(ImageFileError, match="wide.png"):
        image_size(path)
    monkeypatch.setenv("YOLO_STUDIO_MAX_PIXELS", str(300 * 200))
    assert read_image(path).shape == (200, 300, 3)
    assert image_size(path) == (300, 200)


def test_a_bad_budget_setting_is_named(monkeypatch, tmp_path):
    from yolo_studio.core import images
    from yolo_studio.core.errors import ConfigError

    path = tmp_path / "ok.png"
    _write(path, 8, 8)
    monkeypatch.setenv("YOLO_STUDIO_MAX_PIXELS", "lots")
    with pytest.raises(ConfigError, match="YOLO_STUDIO_MAX_PIXELS='lots'"):
        images.max_pixels()
    # readers raise the error every caller already skips past, still naming the setting
    with pytest.raises(ImageFileError, match="ok.png.*YOLO_STUDIO_MAX_PIXELS"):
        read_image(path)


def test_default_budget_passes_a_100_megapixel_camera_and_refuses_20000_squared(tmp_path):
    from yolo_studio.core import images

    assert 11648 * 8736 <= images.max_pixels() < 20000 * 20000 < 2 ** 30


def test_opencv_errors_become_image_file_errors(tmp_path, monkeypatch, forge_header_size):
    # With the budget raised past OpenCV's own limit (2^30 px), cv2.imdecode raises
    # cv2.error instead of returning None: the reader still names the file.
    monkeypatch.setenv("YOLO_STUDIO_MAX_PIXELS", str(2 ** 31))
    path = tmp_path / "big.png"
    _write(path, 8, 1)
    forge_header_size(path, 40000, 40000)
    with pytest.raises(ImageFileError, match="big.png: cannot be decoded"):
        read_image(path)


def test_zero_size_header_is_refused(tmp_path, forge_header_size):
    path = tmp_path / "zero.png"
    _write(path, 8, 8)
    forge_header_size(path, 0, 8)
    with pytest.raises(ImageFileError, match="zero.png.*0x8"):
        image_size(path)


@pytest.mark.parametrize("ext,flags,channels", [
    (".tif", [], 3), (".webp", [], 3), (".webp", [cv2.IMWRITE_WEBP_QUALITY, 101], 3),
    (".webp", [cv2.IMWRITE_WEBP_QUALITY, 80], 4), (".ppm", [], 3), (".pgm", [], 1)])
def test_other_formats_are_measured_from_the_header_without_decoding(tmp_path, ext, flags, channels):
    from yolo_studio.core import images

    path = tmp_path / f"im{ext}"
    img = np.random.default_rng(1).integers(0, 255, size=(77, 123, channels), dtype=np.uint8)
    assert cv2.imwrite(str(path), img[:, :, 0] if channels == 1 else img, flags)
    with open(path, "rb") as f:
        assert images._header_size(f) == (123, 77)


def test_big_endian_tiff_header():
    import io

    from yolo_studio.core import images

    entries = [struct.pack(">HHI", 256, 4, 1) + struct.pack(">I", 70000),
               struct.pack(">HHI", 257, 3, 1) + struct.pack(">HH", 900, 0)]
    data = b"MM\x00*" + struct.pack(">I", 8) + struct.pack(">H", 2) + b"".join(entries)
    assert images._header_size(io.BytesIO(data)) == (70000, 900)


def test_exif_orientation_is_ignored_everywhere(tmp_path):
    """One EXIF rule: stored pixels, as LabelImg shows them (review row 58/59)."""
    from yolo_studio.core.sources import FolderSource

    folder = tmp_path / "f"
    folder.mkdir()
    path = folder / "rot.jpg"
    _write(path, 200, 100)
    data = path.read_bytes()
    # APP1 EXIF with Orientation = 6 (rotate 90 degrees clockwise to display)
    ifd = b"MM\x00*" + struct.pack(">I", 8) + struct.pack(">H", 1) + \
        struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0) + struct.pack(">I", 0)
    app1 = b"Exif\x00\x00" + ifd
    path.write_bytes(data[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + data[2:])
    assert cv2.imread(str(path)).shape[:2] == (200, 100)      # OpenCV alone would rotate it
    assert read_image(path).shape[:2] == (100, 200)
    assert image_size(path) == (200, 100)
    with FolderSource(folder, interval=0) as src:
        assert src.read().image.shape[:2] == (100, 200)
