"""Darknet cfg/.weights I/O: round trip, parity with OpenCV's darknet reader, bad files."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from yolo_studio.core.model import ModelSpec, build_model, darknet_conv_layers
from yolo_studio.core.model.darknet import load_darknet_model, read_names
from yolo_studio.core.model.darknet_cfg import DarknetFileError, parse_cfg, write_cfg
from yolo_studio.core.model.darknet_weights import load_darknet_weights, write_darknet_weights


def randomise(model, seed=0):
    """Random weights with batch-norm statistics like a trained net's, so a layout slip shows.

    Variances span 1e-4..10 (log-uniform) as in trained darknet weights, where
    the batch-norm epsilon matters; gamma scales with sqrt(variance) so the
    activations stay in a trained net's range through 75 layers.
    """
    rng = np.random.default_rng(seed)
    for conv, bn in darknet_conv_layers(model):
        w = conv.get_weights()
        w[0] = rng.normal(0, 1.5 / np.sqrt(np.prod(w[0].shape[:3])), w[0].shape)
        if len(w) > 1:
            w[1] = rng.normal(0, 0.5, w[1].shape)
        conv.set_weights(w)
        if bn is not None:
            n = bn.gamma.shape[0]
            var = 10.0 ** rng.uniform(-4, 1, n)
            bn.set_weights([np.sqrt(var) * rng.uniform(0.5, 1.5, n), rng.normal(0, 0.2, n),
                            rng.normal(0, 0.2, n) * np.sqrt(var), var])
    return model


@pytest.fixture(scope="module")
def yolov3_3c():
    """One full YOLOv3 (3 classes, any input size) shared by the tests that need the big model."""
    return randomise(build_model("yolov3", 3))


def write_darknet(tmp_path, name, classes, size=128, seed=0, model=None):
    model = model if model is not None else randomise(build_model(name, classes, size), seed)
    cfg = write_cfg(tmp_path / f"{name}.cfg", name, classes, ModelSpec(name, classes).anchors, size)
    weights = write_darknet_weights(model, tmp_path / f"{name}.weights")
    return model, cfg, weights


def opencv_heads(cfg, weights, x):
    """OpenCV's darknet reader's raw heads for NHWC ``x``, stride ascending like our models'."""
    net = cv2.dnn.readNetFromDarknet(str(cfg), str(weights))
    # OpenCV names layers by darknet index; the conv right before each [yolo] is the head.
    heads = [f"conv_{int(n.split('_')[1]) - 1}" for n in net.getLayerNames() if n.startswith("yolo_")]
    net.setInput(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    return [o.transpose(0, 2, 3, 1) for o in net.forward(heads)][::-1]   # cfg order: stride descending


@pytest.mark.parametrize("name", ["yolov3", "yolov3-tiny"])
def test_heads_match_opencv_darknet_reader_at_416(tmp_path, name, yolov3_3c):
    """Our darknet reader, and the model the file was written from, give OpenCV's heads to 1e-5."""
    model = yolov3_3c if name == "yolov3" else randomise(build_model(name, 3))
    _, cfg, weights = write_darknet(tmp_path, name, 3, size=416, model=model)
    loaded, _, _ = load_darknet_model(weights, cfg)
    x = np.random.default_rng(1).random((1, 416, 416, 3), dtype=np.float32)
    reference = opencv_heads(cfg, weights, x)
    for ours in ([o.numpy() for o in loaded(x)], [o.numpy() for o in model(x)]):
        for ref, out in zip(reference, ours):
            assert ref.shape == out.shape
            scale = np.abs(ref).max()
            assert scale > 0.5                                   # not a trivially zero head
            assert np.abs(out - ref).max() / scale < 1e-5


def test_darknet_epsilon_is_what_makes_the_heads_match(tmp_path):
    """With Keras' 1e-5 epsilon on darknet's variances the heads drift by far more than 1e-5."""
    from yolo_studio.core.model.layers import set_bn_epsilon

    _, cfg, weights = write_darknet(tmp_path, "yolov3-tiny", 3, size=416)
    loaded, _, _ = load_darknet_model(weights, cfg)
    set_bn_epsilon(loaded, 1e-5)
    x = np.random.default_rng(1).random((1, 416, 416, 3), dtype=np.float32)
    ref = opencv_heads(cfg, weights, x)[0]
    assert np.abs(loaded(x)[0].numpy() - ref).max() / np.abs(ref).max() > 1e-4


def test_weights_round_trip_and_cfg_describes_the_model(tmp_path):
    model, cfg, weights = write_darknet(tmp_path, "yolov3-tiny", 3, size=64)
    parsed = parse_cfg(cfg)
    assert (parsed.model, parsed.num_classes, parsed.input_size) == ("yolov3-tiny", 3, 64)
    assert parsed.anchors == ModelSpec("yolov3-tiny", 3).anchors
    loaded, spec, report = load_darknet_model(weights, cfg, classes=["a", "b", "c"])
    assert spec.class_names == ["a", "b", "c"] and not report.skipped
    x = np.random.default_rng(2).random((1, 64, 64, 3), dtype=np.float32)
    for a, b in zip(model(x), loaded(x)):   # the file carries the 1e-5 vs 1e-6 epsilon in its variances
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5 * np.abs(a.numpy()).max())


def test_darknet_tiny_cfg_masks_give_its_anchor_layout(tmp_path):
    model, cfg, _ = write_darknet(tmp_path, "yolov3-tiny", 80, size=64)
    text = cfg.read_text().replace("mask=3,4,5", "mask=X").replace("mask=0,1,2", "mask=1,2,3")
    cfg.write_text(text.replace("mask=X", "mask=3,4,5"))       # darknet's own yolov3-tiny.cfg
    assert parse_cfg(cfg).anchors == [[(23, 27), (37, 58), (81, 82)], [(81, 82), (135, 169), (344, 319)]]


def test_topology_and_classes_inferred_without_cfg(tmp_path):
    _, cfg, weights = write_darknet(tmp_path, "yolov3-tiny", 5, size=64)
    cfg.unlink()
    _, spec, _ = load_darknet_model(weights, classes=5)
    assert (spec.model, spec.num_classes) == ("yolov3-tiny", 5)


def test_truncated_weights_name_layer_and_counts(tmp_path):
    _, cfg, weights = write_darknet(tmp_path, "yolov3-tiny", 3, size=64)
    weights.write_bytes(weights.read_bytes()[:-4000])
    with pytest.raises(DarknetFileError) as e:
        load_darknet_model(weights, cfg)
    msg = str(e.value)
    # 8,673,934 + 3 classes x 2,310 floats; 1,000 floats cut off the last conv.
    assert "yolov3-tiny.weights" in msg and "conv layer 12" in msg
    assert "expected 8680864 floats" in msg and "found 8679864" in msg


def test_oversized_weights_say_how_many_floats_are_left(tmp_path):
    _, cfg, weights = write_darknet(tmp_path, "yolov3-tiny", 3, size=64)
    weights.write_bytes(weights.read_bytes() + b"\0" * 40)
    with pytest.raises(DarknetFileError, match="10 floats left over"):
        load_darknet_model(weights, cfg)


def test_weights_of_unknown_model_without_cfg_are_refused(tmp_path):
    (tmp_path / "x.weights").write_bytes(np.zeros(5 + 1000, np.int32).tobytes())
    with pytest.raises(DarknetFileError, match="fit neither yolov3"):
        load_darknet_model(tmp_path / "x.weights")


def test_other_class_count_loads_all_but_output_convs(tmp_path):
    source, _, weights = write_darknet(tmp_path, "yolov3-tiny", 5, size=64)
    target = build_model("yolov3-tiny", 2, 64)
    report = load_darknet_weights(target, weights)
    assert report.file_classes == 5 and len(report.skipped) == 2
    assert "5 classes" in report.message and "re-initialised" in report.message
    for (c_src, bn_src), (c_dst, bn_dst) in zip(darknet_conv_layers(source), darknet_conv_layers(target)):
        if c_dst.name in report.skipped:
            assert c_dst.kernel.shape != c_src.kernel.shape
            continue
        np.testing.assert_array_equal(c_src.kernel.numpy(), c_dst.kernel.numpy())
        # variances pass through darknet's epsilon and back: equal to a float32 ulp
        np.testing.assert_allclose(bn_src.moving_variance.numpy(), bn_dst.moving_variance.numpy(), rtol=1e-6)


def test_unsupported_cfg_layer_names_line(tmp_path):
    _, cfg, weights = write_darknet(tmp_path, "yolov3-tiny", 3, size=64)
    lines = cfg.read_text().splitlines()
    cfg.write_text("\n".join(lines[:30] + ["[reorg]", "stride=2"] + lines[30:]))
    with pytest.raises(DarknetFileError, match=r"line 31: layer type \[reorg\] is not supported"):
        load_darknet_model(weights, cfg)


def test_cfg_with_other_topology_is_refused(tmp_path):
    _, cfg, _ = write_darknet(tmp_path, "yolov3-tiny", 3, size=64)
    cfg.write_text(cfg.read_text().replace("filters=1024", "filters=512"))
    with pytest.raises(DarknetFileError, match="neither yolov3"):
        parse_cfg(cfg)


def test_names_file_with_wrong_count_is_refused(tmp_path):
    _, cfg, weights = write_darknet(tmp_path, "yolov3-tiny", 3, size=64)
    names = tmp_path / "obj.names"
    names.write_text("cat\ndog\n\n")
    assert read_names(names) == ["cat", "dog"]
    with pytest.raises(DarknetFileError, match="obj.names: gives 2 classes but yolov3-tiny.cfg"):
        load_darknet_model(weights, cfg, classes=names)
    with pytest.raises(DarknetFileError, match="--classes: gives 4 classes"):
        load_darknet_model(weights, cfg, classes=4)


def test_weights_of_the_other_topology_are_named_in_the_error(tmp_path, yolov3_3c):
    _, _, weights = write_darknet(tmp_path, "yolov3-tiny", 3, size=64)
    with pytest.raises(DarknetFileError, match="size fits yolov3-tiny with 3 classes"):
        load_darknet_weights(yolov3_3c, weights)


def test_hand_edited_cfg_lines_are_tolerated_like_darknet_and_bad_numbers_named(tmp_path):
    _, cfg, _ = write_darknet(tmp_path, "yolov3-tiny", 3, size=64)
    text = cfg.read_text()
    cfg.write_text(text.replace("# Testing", "Training").replace("height=64", "height = 64"))
    assert parse_cfg(cfg).input_size == 64                 # darknet skips a line without '='
    cfg.write_text(text.replace("filters=1024", "filters=1O24"))
    with pytest.raises(DarknetFileError, match=r"\[convolutional\] at line \d+: a value is not a number"):
        parse_cfg(cfg)


def test_old_header_with_32_bit_seen_counter_loads(tmp_path):
    model, cfg, weights = write_darknet(tmp_path, "yolov3-tiny", 3, size=64)
    data = weights.read_bytes()
    old = np.array([0, 1, 0, 1234], "<i4").tobytes() + data[20:]     # darknet < 0.2 layout
    weights.write_bytes(old)
    loaded, _, _ = load_darknet_model(weights, cfg)
    x = np.random.default_rng(3).random((1, 64, 64, 3), dtype=np.float32)
    # 1e-5 of the heads' range, as the round trip above: the darknet file holds var + eps folded
    # into one float32, so single outputs move by float round-off (1.05e-5 on a value of 3.78 was
    # seen); a header misread by 4 bytes shifts every weight and misses by whole units
    want = model(x)[0].numpy()
    np.testing.assert_allclose(loaded(x)[0].numpy(), want, atol=1e-5 * np.abs(want).max())


def test_a_model_trained_here_reads_back_in_opencv_with_the_same_boxes(trained_tiny, tmp_path):
    """Export a trained checkpoint to darknet; OpenCV's own [yolo] outputs give our detector's boxes."""
    from yolo_studio.core.checkpoint_eval import ground_truth
    from yolo_studio.core.detector import Detector, to_detections
    from yolo_studio.core.export import export_model
    from yolo_studio.core.images import letterbox_image, read_image
    from yolo_studio.core.project import Project
    from yolo_studio.core.runtime.nms import nms_batch

    root, ckpt = trained_tiny
    weights, cfg, _ = export_model(ckpt, "darknet", tmp_path / "trained").paths
    # OpenCV zeroes class scores under its [yolo] thresh (0.2); a one-epoch model scores ~0.03.
    low = tmp_path / "low.cfg"
    low.write_text(cfg.read_text().replace("[yolo]\n", "[yolo]\nthresh=0.0001\n"))
    net = cv2.dnn.readNetFromDarknet(str(low), str(weights))
    detector = Detector.load(ckpt)
    anns, _ = ground_truth(Project.open(root), "val")
    found = 0
    for ann in anns:
        image = read_image(ann.image_path)
        h, w = image.shape[:2]
        boxed, lb = letterbox_image(image[:, :, ::-1].copy(), 128)
        net.setInput(cv2.dnn.blobFromImage(boxed, 1 / 255.0))
        rows = np.concatenate(net.forward(net.getUnconnectedOutLayersNames()))   # cx cy w h obj obj*p
        xyxy = np.concatenate([rows[:, :2] - rows[:, 2:4] / 2, rows[:, :2] + rows[:, 2:4] / 2], 1) * 128
        decoded = np.concatenate([xyxy, rows[:, 4:5], rows[:, 5:] / rows[:, 4:5]], 1)[None]
        boxes, scores, classes, valid = nms_batch(decoded.astype(np.float32), 0.02, 0.45, 100)
        theirs = to_detections(boxes[0], scores[0], classes[0], valid[0], lb, w, h, detector.class_names)
        ours = detector.detect(image, score_threshold=0.02)
        assert len(theirs) == len(ours)
        for t in theirs:
            assert any(o.class_id == t.class_id and abs(o.score - t.score) < 1e-3
                       and abs(np.array([o.x1 - t.x1, o.y1 - t.y1, o.x2 - t.x2, o.y2 - t.y2])).max() < 0.05
                       for o in ours), t
        found += len(ours)
    assert found > 5
