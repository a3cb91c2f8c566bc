"""The model family module: one rule per fact, the same answer wherever it is asked."""
from __future__ import annotations

import json

import pytest

from yolo_studio.core.errors import ConfigError
from yolo_studio.core.model_family import (MAX_INPUT_SIZE, MIN_TRAIN_INPUT_SIZE, AnchorSet,
                                           check_input_size, family, family_with_scales)

NINE = [(373, 326), (10, 13), (62, 45), (16, 30), (156, 198), (33, 23), (30, 61), (116, 90), (59, 119)]


def test_families_know_their_scales_strides_and_anchor_counts():
    assert family("yolov3").strides == (8, 16, 32) and family("yolov3").n_anchors == 9
    assert family("yolov3-tiny").strides == (16, 32) and family("yolov3-tiny").n_anchors == 6
    assert family_with_scales(2).name == "yolov3-tiny"
    with pytest.raises(ConfigError, match="model 'yolov5' is unknown; choose one of yolov3, yolov3-tiny"):
        family("yolov5")


def test_grouping_sorts_by_area_and_splits_per_scale_whatever_the_order():
    grouped = AnchorSet.grouped(NINE, "yolov3")
    assert grouped == family("yolov3").default_anchors
    assert [len(g) for g in AnchorSet.grouped(NINE[:6], "yolov3-tiny")] == [3, 3]
    with pytest.raises(ConfigError, match="set k to 9"):
        AnchorSet.grouped(NINE[:6], "yolov3")


def test_parse_refuses_what_the_heads_cannot_use():
    with pytest.raises(ConfigError, match="finite, positive"):
        AnchorSet.parse([[(10, 0), (1, 1), (2, 2)]])
    with pytest.raises(ConfigError, match="needs anchors for 2 scales"):
        AnchorSet.parse(family("yolov3").default_anchors, "yolov3-tiny")
    with pytest.raises(ConfigError, match="3 anchors per scale"):
        AnchorSet.parse([[(1, 1), (2, 2)], [(3, 3), (4, 4)]], "yolov3-tiny")
    with pytest.raises(ConfigError, match="pairs per scale"):
        AnchorSet.parse("10,13")


def test_scaling_and_json_round_trip():
    tiny = family("yolov3-tiny").default_anchors
    half = tiny.scaled(416, 208)
    assert half[0][0] == (5.0, 7.0) and half[1][2] == (172.0, 159.5)
    assert AnchorSet.parse(json.loads(json.dumps(half.to_json()))) == half
    assert half.flat()[3] == (40.5, 41.0)


def test_project_anchors_are_scaled_only_when_their_count_fits_the_model():
    stored = [[(20, 20), (10, 10), (30, 30)], [(60, 60), (50, 50), (40, 40)]]
    assert AnchorSet.for_model(stored, "yolov3-tiny", 416, 832)[0] == ((20.0, 20.0), (40.0, 40.0), (60.0, 60.0))
    assert AnchorSet.for_model(stored, "yolov3", 416, 832) == family("yolov3").default_anchors
    assert AnchorSet.for_model(None, "yolov3-tiny", 416, 832) == family("yolov3-tiny").default_anchors


@pytest.mark.parametrize("size", [0, -416, 100, 416.0, True, "416"])
def test_one_input_size_rule_names_the_setting(size):
    with pytest.raises(ConfigError, match="--size must be a positive multiple of 32"):
        check_input_size(size, "--size")


def test_training_limits_are_the_same_rule_with_bounds():
    assert check_input_size(32) == 32
    with pytest.raises(ConfigError, match="from 64 to 4096"):
        check_input_size(32, "input size", MIN_TRAIN_INPUT_SIZE, MAX_INPUT_SIZE)
    with pytest.raises(ConfigError, match="got 4128"):
        check_input_size(4128, "input size", MIN_TRAIN_INPUT_SIZE, MAX_INPUT_SIZE)
