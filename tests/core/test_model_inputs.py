"""Hand-edited model files (checkpoint .json, darknet .cfg) give one clear line, never a traceback.

Rows #94-#99 of the reliability review: each input used to crash in OpenCV, in
a tf.function trace, or print 170 lines of Keras text.
"""
from __future__ import annotations

import json

import pytest

from yolo_studio.cli import main
from yolo_studio.core.errors import ConfigError, YoloStudioError
from yolo_studio.core.model import ModelSpec, build_model, save_checkpoint
from yolo_studio.core.model.darknet_cfg import parse_cfg, write_cfg


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny")
    spec = ModelSpec("yolov3-tiny", 2, 64, class_names=["cat", "dog"])
    save_checkpoint(build_model("yolov3-tiny", 2, 64), spec, d / "model")
    image = d / "in.png"
    import cv2
    import numpy as np
    cv2.imwrite(str(image), np.full((40, 50, 3), 100, np.uint8))
    return d


def edited_checkpoint(tiny, tmp_path, **changes):
    """A copy of the tiny checkpoint whose .json has ``changes``."""
    spec = json.loads((tiny / "model.json").read_text())
    spec.update(changes)
    (tmp_path / "m.weights.h5").write_bytes((tiny / "model.weights.h5").read_bytes())
    (tmp_path / "m.json").write_text(json.dumps(spec).replace("NaN", "NaN"))
    return tmp_path / "m"


def detect_err(capsys, weights, tiny, tmp_path, *extra):
    rc = main(["detect", "--weights", str(weights), "--out", str(tmp_path / "out"), *extra, str(tiny / "in.png")])
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


@pytest.mark.parametrize("changes, message", [
    ({"input_size": 0}, "input_size must be a positive multiple of 32"),                      # 97
    ({"input_size": -64}, "input_size must be a positive multiple of 32"),                    # 97
    ({"anchors": [[[float("nan"), 14], [23, 27], [37, 58]], [[81, 82], [135, 169], [344, 319]]]},
     "anchors must be finite, positive"),                                                      # 98
    ({"anchors": [[[10, 14], [23, 27]], [[81, 82], [135, 169]]]}, "needs 3 anchors per scale"),  # 99
    ({"num_classes": "three"}, "num_classes must be a whole number"),
])
def test_edited_checkpoint_json_is_one_line_naming_the_file(tiny, tmp_path, capsys, changes, message):
    weights = edited_checkpoint(tiny, tmp_path, **changes)
    err = detect_err(capsys, weights, tiny, tmp_path)
    assert "m.json" in err and message in err


def test_weights_of_another_model_give_a_short_message(tiny, tmp_path, capsys):                # 96
    weights = edited_checkpoint(tiny, tmp_path, num_classes=5, class_names=list("abcde"))
    err = detect_err(capsys, weights, tiny, tmp_path)
    assert "cannot load weights into yolov3-tiny with 5 classes" in err and len(err) < 600


def cfg(tmp_path, **edit):
    path = tmp_path / "dn.cfg"
    write_cfg(path, "yolov3-tiny", 2, ModelSpec("yolov3-tiny", 2, 64).anchors, 64)
    text = path.read_text()
    for old, new in edit.items():
        text = text.replace(old, new)
    path.write_text(text)
    return path


@pytest.mark.parametrize("edit, message", [
    ({"anchors=": "anchors=nan,"}, "anchors must be finite positive numbers"),   # 94
    ({"width=64": "width=0", "height=64": "height=0"}, "width=0 height=0"),      # 95
])
def test_hand_edited_cfg_is_a_darknet_file_error(tmp_path, edit, message):
    with pytest.raises(YoloStudioError, match=message):
        parse_cfg(cfg(tmp_path, **edit))


def test_spec_is_the_one_check_for_every_source():
    for bad in ({"input_size": 48}, {"num_classes": 0}, {"anchors": [[(1, 1)] * 3]}):
        with pytest.raises(ConfigError):
            ModelSpec(**{"model": "yolov3-tiny", "num_classes": 2, **bad})
