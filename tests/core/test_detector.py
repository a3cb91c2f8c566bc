"""Detector: loading every model kind, letterbox inverse, no retracing, bad input."""
from __future__ import annotations

import numpy as np
import pytest

from yolo_studio.core.boxes import letterbox_params
from yolo_studio.core.detector import (Detector, DetectorInputError, as_rgb_uint8, letterbox_rgb_uint8,
                                       to_detections)
from yolo_studio.core.errors import ConfigError, YoloStudioError
from yolo_studio.core.images import letterbox_image
from yolo_studio.core.model import ModelSpec, build_model, save_checkpoint
from yolo_studio.core.model.darknet_cfg import write_cfg
from yolo_studio.core.model.darknet_weights import write_darknet_weights

NAMES = ["cat", "dog", "fox"]


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    """A random-weight 3-class tiny checkpoint at 64 px, plus the same model as darknet files."""
    d = tmp_path_factory.mktemp("ckpt")
    import keras
    keras.utils.set_random_seed(3)
    model = build_model("yolov3-tiny", 3, 64)
    spec = ModelSpec("yolov3-tiny", 3, 64, class_names=NAMES)
    save_checkpoint(model, spec, d / "best")
    write_cfg(d / "dn.cfg", "yolov3-tiny", 3, spec.anchors, 64)
    write_darknet_weights(model, d / "dn.weights")
    (d / "dn.names").write_text("\n".join(NAMES))
    return d


def image(h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_network_boxes_map_back_through_the_letterbox():
    lb = letterbox_params(200, 100, 64)              # scale 0.32, 64x32 image, 16 px bands
    boxes = np.array([[8, 24, 40, 40], [0, 0, 64, 10]], np.float32)   # second: in the top band
    dets = to_detections(boxes, [0.9, 0.8], [1, 0], 2, lb, 200, 100, NAMES)
    assert len(dets) == 1                            # the box inside the padding is dropped
    d = dets[0]
    assert (d.x1, d.y1, d.x2, d.y2) == pytest.approx((25, 25, 125, 75))
    assert (d.label, d.class_id, d.score) == ("dog", 1, pytest.approx(0.9))


def test_repeated_calls_on_different_images_trace_once(tiny_checkpoint):
    det = Detector.load(tiny_checkpoint / "best.weights.h5").warmup()
    assert (det.input_size, det.class_names) == (64, NAMES)
    assert det.trace_count == 1
    for k, (h, w) in enumerate([(120, 200), (64, 64), (300, 90)]):
        det.detect(image(h, w, k), score_threshold=0.1 + 0.1 * k, iou_threshold=0.5 - 0.1 * k,
                   max_detections=10 + k)
    assert det.trace_count == 1
    assert set(det.timings) == {"preprocess", "infer", "postprocess"}
    assert all(t > 0 for t in det.timings.values())


def test_detections_lie_inside_the_original_image_and_respect_cap(tiny_checkpoint):
    det = Detector.load(tiny_checkpoint / "best")
    dets = det.detect(image(90, 240), score_threshold=0.0, max_detections=30)
    assert 0 < len(dets) <= 30
    for d in dets:
        assert 0 <= d.x1 < d.x2 <= 240 and 0 <= d.y1 < d.y2 <= 90
        assert d.label == NAMES[d.class_id]


def test_bgr_and_rgb_inputs_agree(tiny_checkpoint):
    det = Detector.load(tiny_checkpoint / "best.json")
    bgr = image(80, 100, 5)
    a = det.detect(bgr, score_threshold=0.05)
    b = det.detect(bgr[:, :, ::-1].copy(), rgb=True, score_threshold=0.05)
    c = det.detect(bgr[:, :, ::-1].copy(), rgb=False, score_threshold=0.05)
    assert a == b and a
    assert a != c                                    # the channel order really is used


def test_a_camera_frame_is_swapped_after_the_resize_with_the_same_pixels_and_boxes(tiny_checkpoint):
    bgr = image(97, 131, 11)
    full_size_swap = letterbox_image(as_rgb_uint8(bgr, False), 64)
    for frame, rgb in [(bgr, False), (bgr[:, :, ::-1], True), (bgr[5:90, 3:120], False)]:
        got, lb = letterbox_rgb_uint8(frame, rgb, 64)
        want, want_lb = letterbox_image(as_rgb_uint8(frame, rgb), 64)
        np.testing.assert_array_equal(got, want)
        assert lb == want_lb
    np.testing.assert_array_equal(letterbox_rgb_uint8(bgr, False, 64)[0], full_size_swap[0])
    det = Detector.load(tiny_checkpoint / "best")
    fast = det.detect(bgr, score_threshold=0.05)                      # uint8: swapped after the resize
    slow = det.detect(bgr.astype(np.float32), score_threshold=0.05)   # float 0-255: the full-size road
    assert fast == slow and fast


def test_darknet_files_give_the_checkpoint_detections(tiny_checkpoint):
    img = image(100, 150, 7)
    ours = Detector.load(tiny_checkpoint / "best").detect(img, score_threshold=0.05)
    dn = Detector.load(tiny_checkpoint / "dn.weights", classes=tiny_checkpoint / "dn.names")
    theirs = dn.detect(img, score_threshold=0.05)
    assert dn.class_names == NAMES and len(ours) == len(theirs) > 0
    for a, b in zip(ours, theirs):
        assert (a.label, a.score) == (b.label, pytest.approx(b.score, abs=1e-5))
        assert (a.x1, a.y1, a.x2, a.y2) == pytest.approx((b.x1, b.y1, b.x2, b.y2), abs=1e-3)


def test_input_size_override_runs_at_that_size(tiny_checkpoint):
    det = Detector.load(tiny_checkpoint / "best", input_size=96)
    assert det.input_size == 96
    det.detect(image(50, 50))
    with pytest.raises(ConfigError, match="multiple of 32"):
        Detector.load(tiny_checkpoint / "best", input_size=100)


def test_bad_paths_and_arrays_give_clear_errors(tiny_checkpoint, tmp_path):
    with pytest.raises(ConfigError, match="nope.weights.h5"):
        Detector.load(tmp_path / "nope.weights.h5")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ConfigError, match="notes.txt: not a model"):
        Detector.load(tmp_path / "notes.txt")
    det = Detector.load(tiny_checkpoint / "best")
    with pytest.raises(DetectorInputError, match=r"shape \(4, 4, 2\)"):
        det.detect(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(DetectorInputError, match="numpy array"):
        det.detect("picture.jpg")
    # A grey image is detected as the same picture in colour (it used to be checked only
    # for "is not None", which a list always is).
    grey = np.tile(np.arange(30, dtype=np.uint8) * 8, (40, 1))
    colour = np.repeat(grey[..., None], 3, axis=2)
    assert det.detect(grey, score_threshold=0.001) == det.detect(colour, score_threshold=0.001)
    assert len(det.detect(grey, score_threshold=0.001)) > 0


def test_class_count_keeps_checkpoint_names_and_wrong_count_is_refused(tiny_checkpoint):
    assert Detector.load(tiny_checkpoint / "best", classes=3).class_names == NAMES
    with pytest.raises(YoloStudioError, match="gives 2 classes but best has 3"):
        Detector.load(tiny_checkpoint / "best", classes=2)


def test_bfloat16_detector_finds_the_float32_boxes(tiny_checkpoint):
    import keras
    img = image(100, 100, 9)
    full = Detector.load(tiny_checkpoint / "best").detect(img, score_threshold=0.2)
    half = Detector.load(tiny_checkpoint / "best", precision="bfloat16")
    assert keras.mixed_precision.global_policy().name == "float32"     # no global side effect
    assert full and len(half.detect(img, score_threshold=0.1)) >= 1
    found = half.detect(img, score_threshold=0.1)
    for d in full:            # every float32 box has a bfloat16 twin of similar score
        assert any(e.class_id == d.class_id and abs(e.score - d.score) < 0.05 and
                   abs(e.x1 - d.x1) + abs(e.y1 - d.y1) + abs(e.x2 - d.x2) + abs(e.y2 - d.y2) < 8
                   for e in found)
    with pytest.raises(ConfigError, match="precision 'int4'"):
        Detector.load(tiny_checkpoint / "best", precision="int4")


@pytest.mark.parametrize("flags, fast", [("fpu sse avx512f avx512_bf16 amx_tile", True),
                                         ("fpu sse avx2 amx_bf16", True),
                                         ("fpu sse avx512f avx512_vnni", False)])
def test_auto_precision_picks_bfloat16_only_where_the_cpu_has_it(tmp_path, monkeypatch, flags, fast):
    from yolo_studio.core import detector
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: test\nflags\t\t: {flags}\n")
    monkeypatch.setattr(detector, "CPUINFO", cpuinfo)
    assert detector.fast_bfloat16() is fast
    assert detector.resolve_precision("auto") == ("mixed_bfloat16" if fast else "float32")
    monkeypatch.setattr(detector, "CPUINFO", tmp_path / "missing")
    assert detector.resolve_precision("auto") == "float32"
