"""YOLOv3 / tiny builders, backbone selection, mixed precision and checkpoints."""
from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from yolo_studio.core.errors import ConfigError
from yolo_studio.core.model import (ModelSpec, backbone_layers, build_model, darknet_conv_layers,
                                    load_checkpoint, output_layers, read_spec, save_checkpoint)
from yolo_studio.core.model.darknet_weights import FLOATS_BASE, FLOATS_PER_CLASS


@pytest.mark.parametrize("name, params, convs", [("yolov3", 62_001_757, 75),
                                                 ("yolov3-tiny", 8_858_734, 13)])
def test_80_class_parameter_counts_match_darknet(name, params, convs):
    model = build_model(name, 80)
    assert model.count_params() == params
    assert len(darknet_conv_layers(model)) == convs
    # The float-count constants used to recognise .weights files follow the model.
    assert FLOATS_BASE[name] + 80 * FLOATS_PER_CLASS[name] == params


@pytest.fixture(scope="module")
def yolov3_2c():
    return build_model("yolov3", 2)


@pytest.mark.parametrize("name, grids", [("yolov3", [8, 4, 2]), ("yolov3-tiny", [4, 2])])
def test_outputs_are_stride_ascending_raw_heads(name, grids, yolov3_2c):
    model = yolov3_2c if name == "yolov3" else build_model(name, 2)
    outs = model(np.zeros((1, 64, 64, 3), np.float32))
    assert [o.shape[1] for o in outs] == grids
    assert all(o.shape[-1] == 3 * (5 + 2) for o in outs)
    assert [layer.name.split("_")[1] for layer in output_layers(model)] == \
        [f"s{64 // g}" for g in grids]


def test_backbone_excludes_heads_and_freezing_leaves_heads_trainable():
    model = build_model("yolov3", 4)       # its own: the test freezes layers
    backbone = backbone_layers(model)
    convs = [layer for layer in backbone if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == 52                                  # Darknet-53 minus its classifier
    assert not set(map(id, backbone)) & set(map(id, output_layers(model)))
    for layer in backbone:
        layer.trainable = False
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert 0 < trainable < model.count_params()
    assert all(layer.trainable for layer in output_layers(model))


def test_tiny_backbone_is_its_first_seven_convs():
    convs = [layer for layer in backbone_layers(build_model("yolov3-tiny", 1))
             if isinstance(layer, keras.layers.Conv2D)]
    assert sorted(layer.name[-2:] for layer in convs) == [f"{i:02d}" for i in range(7)]


def test_outputs_stay_float32_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = build_model("yolov3-tiny", 3)
        outs = model(np.random.rand(1, 64, 64, 3).astype(np.float32))
        assert model.layers[2].compute_dtype == "bfloat16"
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert all(o.dtype == "float32" for o in outs)


@pytest.mark.parametrize("bad", [dict(name="yolov4"), dict(input_size=100), dict(num_classes=0)])
def test_bad_model_settings_name_the_setting(bad):
    args = dict(name="yolov3-tiny", num_classes=3, input_size=64) | bad
    with pytest.raises(ConfigError, match="model|input size|classes"):
        build_model(**args)


def test_checkpoint_round_trip_from_any_of_its_paths(tmp_path):
    model = build_model("yolov3-tiny", 2, 64)
    x = np.random.default_rng(0).random((1, 64, 64, 3), dtype=np.float32)
    spec = ModelSpec("yolov3-tiny", 2, 64, [[(5, 6), (7, 8), (9, 10)], [(20, 21), (30, 31), (40, 41)]],
                     ["cat", "dog"], extra={"epoch": 3})
    stem = save_checkpoint(model, spec, tmp_path / "weights" / "best")
    assert sorted(p.name for p in stem.parent.iterdir()) == ["best.json", "best.weights.h5"]
    assert json.loads((tmp_path / "weights" / "best.json").read_text())["class_names"] == ["cat", "dog"]
    expected = [o.numpy() for o in model(x)]
    for path in (stem, tmp_path / "weights" / "best.json", tmp_path / "weights" / "best.weights.h5"):
        loaded, loaded_spec = load_checkpoint(path)
        assert loaded_spec == spec
        for a, b in zip(expected, loaded(x)):
            np.testing.assert_allclose(a, b.numpy(), atol=1e-5)


def test_checkpoint_errors_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="missing.json"):
        load_checkpoint(tmp_path / "missing")
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ConfigError, match="broken.json"):
        read_spec(tmp_path / "broken")
    model = build_model("yolov3-tiny", 2, 64)
    save_checkpoint(model, ModelSpec("yolov3-tiny", 2, 64), tmp_path / "w")
    (tmp_path / "w.weights.h5").write_bytes(b"garbage")
    with pytest.raises(ConfigError, match="w.weights.h5"):
        load_checkpoint(tmp_path / "w")


def test_spec_rejects_names_not_matching_class_count():
    with pytest.raises(ConfigError, match="3 class names"):
        ModelSpec("yolov3", 2, class_names=["a", "b", "c"])


def test_dtype_argument_gives_bfloat16_layers_without_global_policy():
    model = build_model("yolov3-tiny", 3, 64, dtype="mixed_bfloat16")
    assert keras.mixed_precision.global_policy().name == "float32"
    assert model.get_layer("backbone_conv_00").compute_dtype == "bfloat16"
    assert all(layer.compute_dtype == "float32" for layer in output_layers(model))
    assert all(o.dtype == "float32" for o in model(np.ones((1, 64, 64, 3), np.float32)))
