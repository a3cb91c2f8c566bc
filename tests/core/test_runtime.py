"""Inference backends: every one gives TensorFlow's boxes on a trained model; 'auto' picks and
caches; no optional library installed still works; the cache never trusts or replaces a stranger."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from yolo_studio.core.boxes import iou
from yolo_studio.core.checkpoint_eval import ground_truth
from yolo_studio.core.detector import Detector
from yolo_studio.core.images import read_image
from yolo_studio.core.model import nms
from yolo_studio.core.project import Project
from yolo_studio.core import runtime as runtime_pkg
from yolo_studio.core.runtime import OPTIONAL, available_backends
from yolo_studio.core.runtime.nms import nms_batch
from yolo_studio.core.runtime.select import BackendError

SCORE = 0.02     # a one-epoch model is unsure: its scores lie between 0.01 and 0.05
INSTALLED = [b for b in OPTIONAL if b in available_backends()]


@pytest.fixture(scope="module")
def val_images(trained_tiny):
    root, _ = trained_tiny
    anns, _ = ground_truth(Project.open(root), "val")
    return [read_image(a.image_path) for a in anns]


@pytest.fixture(scope="module")
def tf_reference(trained_tiny, val_images):
    det = Detector.load(trained_tiny[1])
    ref = [det.detect(im, score_threshold=SCORE) for im in val_images]
    assert sum(map(len, ref)) > 5, "the trained fixture should find boxes on the val images"
    return ref


def assert_same_boxes(got, ref):
    """Same count, and each box has its twin: same class, IoU > 0.99, score within 1e-3."""
    assert len(got) == len(ref)
    if not ref:
        return
    a = np.array([[d.x1, d.y1, d.x2, d.y2] for d in got])
    b = np.array([[d.x1, d.y1, d.x2, d.y2] for d in ref])
    overlap = iou(a, b)
    for i, d in enumerate(got):
        twins = [j for j, r in enumerate(ref) if r.class_id == d.class_id and abs(r.score - d.score) < 1e-3
                 and overlap[i, j] > 0.99]
        assert twins, f"{d} has no twin among TensorFlow's boxes"


@pytest.mark.parametrize("backend", INSTALLED)
def test_every_backend_gives_tensorflows_boxes_on_val_images(backend, trained_tiny, val_images,
                                                             tf_reference):
    det = Detector.load(trained_tiny[1], backend=backend)
    assert det.backend == backend
    for image, ref in zip(val_images, tf_reference):
        assert_same_boxes(det.detect(image, score_threshold=SCORE), ref)
    # a folder goes through in batches: the same boxes as one image at a time
    for got, ref in zip(det.detect_batch(val_images[:4], score_threshold=SCORE), tf_reference[:4]):
        assert_same_boxes(got, ref)


@pytest.mark.skipif("openvino" not in INSTALLED, reason="openvino is not installed")
def test_openvino_runs_float32_even_where_the_cpu_has_bf16(trained_tiny):
    """OpenVINO's CPU plugin would pick bf16 on an AMX/AVX-512-BF16 CPU unless told: the float32
    backend (the one compared with TensorFlow and OpenCV) must really run float32."""
    det = Detector.load(trained_tiny[1], backend="openvino")
    assert det.runtime.conv_precisions() == {"f32"}          # the static batch-1 graph
    det.detect_batch([np.full((60, 90, 3), 100, np.uint8)] * 2)   # compiles the dynamic-batch one
    assert det.runtime.conv_precisions() == {"f32"}          # both graphs


@pytest.mark.skipif(not INSTALLED, reason="neither onnxruntime nor openvino is installed")
def test_auto_picks_a_matching_backend_once_and_then_reads_the_cache(trained_tiny, val_images,
                                                                    tf_reference, monkeypatch):
    det = Detector.load(trained_tiny[1], backend="auto")
    assert det.backend in available_backends()
    assert "fastest of" in det.backend_reason and "tensorflow" in det.backend_reason
    cache = next(Path(trained_tiny[1]).parent.glob("*.runtime"))
    assert (cache / ".yolo_studio_outputs.json").is_file()
    # The second load converts and measures nothing: both come from the cache.
    for name in INSTALLED:
        monkeypatch.setattr(runtime_pkg.backend_module(name), "convert",
                            lambda *a: pytest.fail("converted again despite the cache"))
    monkeypatch.setattr("yolo_studio.core.runtime.select.measure",
                        lambda *a, **k: pytest.fail("measured again despite the stored choice"))
    again = Detector.load(trained_tiny[1], backend="auto")
    assert again.backend == det.backend and "measured earlier" in again.backend_reason
    assert_same_boxes(again.detect(val_images[0], score_threshold=SCORE), tf_reference[0])


def test_without_onnxruntime_or_openvino_auto_runs_tensorflow(trained_tiny, val_images, tf_reference,
                                                              monkeypatch):
    import sys

    for name in ("openvino", "onnxruntime", "tf2onnx"):
        monkeypatch.setitem(sys.modules, name, None)         # `import name` now raises ImportError
    assert available_backends() == ["tensorflow"]
    det = Detector.load(trained_tiny[1], backend="auto")
    assert det.backend == "tensorflow" and "not installed" in det.backend_reason
    assert_same_boxes(det.detect(val_images[0], score_threshold=SCORE), tf_reference[0])
    with pytest.raises(BackendError, match="'openvino' is not installed"):
        Detector.load(trained_tiny[1], backend="openvino")


@pytest.mark.skipif("openvino" not in INSTALLED, reason="openvino is not installed")
def test_a_file_in_the_cache_we_did_not_write_is_neither_trusted_nor_replaced(tmp_path, trained_tiny,
                                                                             monkeypatch):
    import shutil

    src = Path(trained_tiny[1])
    for f in src.parent.glob(src.name + ".*"):            # the checkpoint and its cache folder
        copy = shutil.copytree if f.is_dir() else shutil.copy
        copy(f, tmp_path / f.name.replace(src.name, "best", 1))
    ckpt = tmp_path / "best"
    first = Detector.load(ckpt, backend="openvino")
    assert first.runtime.note == "cached"                  # same bytes, same key: the copy's cache
    xml = next((tmp_path / "best.runtime").glob("*.xml"))
    genuine = {s: xml.with_suffix(s).read_bytes() for s in (".xml", ".bin")}
    xml.write_text("<net>a person's edit</net>")            # no longer the file we wrote
    converted = []

    def convert(_fn, path):       # the real conversion's files, without paying for it again
        converted.append(path)
        for suffix, data in genuine.items():
            path.with_suffix(suffix).write_bytes(data)

    monkeypatch.setattr(runtime_pkg.backend_module("openvino"), "convert", convert)
    again = Detector.load(ckpt, backend="openvino")         # converts again, elsewhere
    assert converted and converted[0].parent != xml.parent
    assert again.backend == "openvino" and "not cached" in again.runtime.note
    assert xml.read_text() == "<net>a person's edit</net>"
    # its converted files are gone now: a folder batch still runs (image by image, batch-1 graph)
    assert not converted[0].exists()
    images = [np.full((50, 70, 3), v, np.uint8) for v in (60, 200)]
    assert again.detect_batch(images, score_threshold=0.01) == [again.detect(im, score_threshold=0.01)
                                                                for im in images]


def test_numpy_nms_keeps_what_tensorflows_nms_keeps():
    rng = np.random.default_rng(0)
    n, classes = 600, 4
    xy = rng.uniform(0, 200, (1, n, 2))
    wh = rng.uniform(5, 60, (1, n, 2))
    decoded = np.concatenate([xy, xy + wh, rng.uniform(0, 1, (1, n, 1)),
                              rng.uniform(0, 1, (1, n, classes))], axis=-1).astype(np.float32)
    ref = [t.numpy() for t in nms(tf.constant(decoded), 0.3, 0.45, 50)]
    got = nms_batch(decoded, 0.3, 0.45, 50)
    assert got[3][0] == ref[3][0] == 50
    k = int(ref[3][0])
    np.testing.assert_allclose(got[1][0, :k], ref[1][0, :k], rtol=1e-6)
    np.testing.assert_array_equal(got[2][0, :k], ref[2][0, :k])
    np.testing.assert_allclose(got[0][0, :k], ref[0][0, :k], rtol=1e-6)


def test_many_candidates_keep_what_tensorflow_and_opencv_keep():
    """An untrained model at eval's low threshold gives tens of thousands of scattered candidates;
    OpenCV's NMS took minutes on them, so past OPENCV_MAX_CANDIDATES a per-class greedy that
    stops each class at max_detections runs instead: the same boxes as TensorFlow's and OpenCV's."""
    from yolo_studio.core.runtime import nms as nms_module

    rng = np.random.default_rng(2)
    n, classes = 3000, 20
    xy = rng.uniform(0, 400, (1, n, 2))
    decoded = np.concatenate([xy, xy + rng.uniform(5, 80, (1, n, 2)), rng.uniform(0.05, 1, (1, n, 1)),
                              rng.uniform(0, 1, (1, n, classes))], axis=-1).astype(np.float32)
    got = nms_batch(decoded, 0.01, 0.45, 100)
    assert (decoded[0, :, 4:5] * decoded[0, :, 5:] > 0.01).sum() > nms_module.OPENCV_MAX_CANDIDATES
    ref = [t.numpy() for t in nms(tf.constant(decoded), 0.01, 0.45, 100)]
    assert got[3][0] == ref[3][0] == 100
    np.testing.assert_allclose(got[1][0], ref[1][0], rtol=1e-6)
    np.testing.assert_array_equal(got[2][0], ref[2][0])
    np.testing.assert_allclose(got[0][0], ref[0][0], rtol=1e-6)
    old = nms_module.OPENCV_MAX_CANDIDATES
    try:
        nms_module.OPENCV_MAX_CANDIDATES = 10 ** 9          # the OpenCV road on the same rows
        by_opencv = nms_batch(decoded, 0.01, 0.45, 100)
    finally:
        nms_module.OPENCV_MAX_CANDIDATES = old
    for a, b in zip(got, by_opencv):
        np.testing.assert_array_equal(a, b)


def test_numpy_nms_filtering_rows_first_keeps_every_pair_that_scores():
    """The row pre-filter (objectness x best class) is exact: the pairs of every row are kept."""
    rng = np.random.default_rng(1)
    n, classes, threshold = 500, 6, 0.3
    xy = rng.uniform(0, 300, (n, 2))
    rows = np.concatenate([xy, xy + rng.uniform(4, 40, (n, 2)), rng.uniform(0, 1, (n, 1)),
                           rng.uniform(0, 1, (n, classes))], axis=1).astype(np.float32)
    rows[:40, 5] = 1.0                                  # certain class: the score is the objectness
    rows[:20, 4] = np.float32(threshold)                # exactly at the threshold: never kept
    rows[20:40, 4] = np.nextafter(np.float32(threshold), np.float32(1))   # just above: kept
    _, scores, _, valid = nms_batch(rows[None], threshold, 1.0, 10_000)
    every_pair = rows[:, 4:5] * rows[:, 5:]           # iou 1.0: NMS suppresses nothing
    want = np.sort(every_pair[every_pair > np.float32(threshold)])[::-1]
    assert valid[0] == len(want) > 20
    np.testing.assert_array_equal(scores[0, :valid[0]], want)     # the 20 just above included


@pytest.mark.skipif("openvino" not in INSTALLED, reason="openvino is not installed")
def test_detect_and_eval_clis_give_tensorflows_results_on_the_chosen_backend(trained_tiny, tmp_path,
                                                                            capsys):
    import re

    from yolo_studio.cli import main

    root, ckpt = trained_tiny
    counts = {}
    for backend in ("tensorflow", "openvino"):
        assert main(["detect", str(root / "images"), "--weights", str(ckpt), "--conf", str(SCORE),
                     "--backend", backend, "--out", str(tmp_path / backend)]) == 0
        lines = [line for line in capsys.readouterr().out.splitlines() if " detections in " in line]
        assert lines and all(f"({backend})" in line for line in lines)
        counts[backend] = [re.sub(r" in \d+ ms \(\w+\)", "", line) for line in lines]
    assert counts["openvino"] == counts["tensorflow"]
    maps = {}
    for backend in ("tensorflow", "openvino"):
        assert main(["eval", str(root), "--weights", str(ckpt), "--backend", backend]) == 0
        maps[backend] = capsys.readouterr().out
    assert maps["openvino"] == maps["tensorflow"]


BF16_OFFERED = "openvino-bf16" in available_backends()


@pytest.mark.skipif(not BF16_OFFERED, reason="no openvino, or a CPU without native bf16")
def test_openvino_bf16_gives_tensorflows_float32_boxes_within_its_tolerance(trained_tiny, val_images):
    """Row by row (one per anchor) on every val image: scores within the bf16 tolerance, each scoring
    row's box IoU > 0.99 with TF float32's, the same box count after NMS. (Detections at the
    one-epoch model's 0.02 threshold are not compared one by one: its scores crowd 0.01-0.05 with
    near-ties between classes that any rounding reorders.)"""
    from yolo_studio.core.images import letterbox_image
    from yolo_studio.core.runtime.select import rows_match_bf16

    det = Detector.load(trained_tiny[1], precision="bfloat16", backend="openvino-bf16")
    assert det.backend == "openvino-bf16" and "bf16: score error" in det.backend_reason
    assert det.runtime.conv_precisions() == {"bf16"}          # really rounds: not float32 renamed
    for image in val_images:
        boxed = letterbox_image(image, det.input_size)[0][None]
        ok, detail = rows_match_bf16(det.runtime.decoded(boxed), det.tf_runtime.decoded(boxed))
        assert ok, detail
    # the check fails a model that is not the same one (a float32 tolerance would fail bf16 too)
    from yolo_studio.core.model import output_layers

    other = Detector.load(trained_tiny[1])
    for layer in output_layers(other.model):        # heads 50% off: another model
        kernel, bias = layer.get_weights()
        layer.set_weights([kernel * 1.5, bias * 1.5])
    boxed = letterbox_image(val_images[0], det.input_size)[0][None]
    other_rows = other.tf_runtime.decoded(boxed)
    ok, detail = rows_match_bf16(det.runtime.decoded(boxed), other_rows)
    assert not ok, detail


@pytest.mark.skipif("openvino" not in INSTALLED, reason="openvino is not installed")
def test_auto_never_picks_bf16_when_the_user_chose_float32(trained_tiny, monkeypatch):
    from yolo_studio.core.runtime import offered_backends

    assert "openvino-bf16" not in offered_backends("float32")
    import yolo_studio.core.runtime.select as select

    tried = []

    real = select.make_runtime
    monkeypatch.setattr(select, "make_runtime", lambda det, name, msg=None: tried.append(name)
                        or real(det, name, msg))
    det = Detector.load(trained_tiny[1], precision="float32", backend="auto")
    assert "openvino-bf16" not in tried and det.backend != "openvino-bf16"
    with pytest.raises(BackendError, match="precision 'float32'"):
        Detector.load(trained_tiny[1], precision="float32", backend="openvino-bf16")


@pytest.mark.skipif("openvino" not in INSTALLED, reason="openvino is not installed")
def test_a_cpu_without_bf16_is_not_offered_the_bf16_backend(trained_tiny, monkeypatch):
    monkeypatch.setattr(runtime_pkg.backend_module("openvino-bf16"), "cpu_has_bf16", lambda: False)
    assert "openvino-bf16" not in available_backends()
    assert "openvino" in available_backends()
    det = Detector.load(trained_tiny[1], precision="auto", backend="auto")
    assert det.backend != "openvino-bf16" and "openvino-bf16" not in det.backend_reason
    with pytest.raises(BackendError, match="native bf16"):
        Detector.load(trained_tiny[1], precision="auto", backend="openvino-bf16")
