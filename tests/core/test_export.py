"""Every export format, reloaded, gives the Keras model's detections; the CLIs report bad input."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from yolo_studio.cli import main
from yolo_studio.core.detector import Detector
from yolo_studio.core.errors import ConfigError
from yolo_studio.core.export import export_model
from yolo_studio.core.images import letterbox_image
from yolo_studio.core.model import ModelSpec, build_model, darknet_conv_layers, nms, save_checkpoint

NAMES = ["cat", "dog", "fox"]
SCORE = 0.3


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A tiny 3-class model at 64 px whose random heads give a few confident boxes."""
    d = tmp_path_factory.mktemp("export")
    import keras
    keras.utils.set_random_seed(11)
    model = build_model("yolov3-tiny", 3, 64)
    rng = np.random.default_rng(0)
    for conv, bn in darknet_conv_layers(model):
        if bn is not None:     # non-trivial batch-norm statistics so a lost layer would show
            n = bn.gamma.shape[0]
            bn.set_weights([rng.uniform(0.5, 1.5, n), rng.normal(0, .2, n), rng.normal(0, .2, n),
                            rng.uniform(0.5, 2, n)])
    save_checkpoint(model, ModelSpec("yolov3-tiny", 3, 64, class_names=NAMES), d / "best")
    return d / "best"


@pytest.fixture(scope="module")
def photo():
    return np.random.default_rng(4).integers(0, 256, (96, 128, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def reference(checkpoint, photo):
    dets = Detector.load(checkpoint).detect(photo, score_threshold=SCORE)
    assert 2 <= len(dets) <= 100, "the fixture model should find a few boxes"
    return dets


def letterboxed(photo):
    boxed, _ = letterbox_image(photo[:, :, ::-1].copy(), 64)
    return (boxed[None].astype(np.float32) / 255.0), boxed


def assert_same(dets, reference):
    """Exactly the reference detections, in order (float32 exports)."""
    assert len(dets) == len(reference)
    for d, r in zip(dets, reference):
        assert (d.class_id, d.label) == (r.class_id, r.label)
        assert d.score == pytest.approx(r.score, abs=1e-4)
        assert (d.x1, d.y1, d.x2, d.y2) == pytest.approx((r.x1, r.y1, r.x2, r.y2), abs=1e-2)


def assert_close(dets, reference, score_tol):
    """Each confident detection of one list has a twin in the other (float16 rounding)."""
    from yolo_studio.core.boxes import iou

    for a_list, b_list in ((reference, dets), (dets, reference)):
        for a in a_list:
            if a.score < SCORE + score_tol:
                continue           # may fall either side of the threshold after rounding
            twins = [b for b in b_list if b.class_id == a.class_id and abs(b.score - a.score) <= score_tol
                     and iou([a.x1, a.y1, a.x2, a.y2], [b.x1, b.y1, b.x2, b.y2])[0, 0] > 0.95]
            assert twins, f"no twin for {a}"


def detections_from_decoded(decoded, photo):
    """NMS + letterbox inverse for formats that give decoded boxes (TFLite, ONNX)."""
    from yolo_studio.core.boxes import letterbox_params
    from yolo_studio.core.detector import to_detections
    boxes, scores, classes, valid = (t.numpy()[0] for t in nms(decoded, SCORE, 0.45, 100))
    lb = letterbox_params(photo.shape[1], photo.shape[0], 64)
    return to_detections(boxes, scores, classes, valid, lb, photo.shape[1], photo.shape[0], NAMES)


def test_savedmodel_reloads_with_the_same_detections(checkpoint, photo, reference, tmp_path):
    result = export_model(checkpoint, "savedmodel", tmp_path / "sm")
    assert (tmp_path / "sm" / "saved_model.pb").is_file()
    det = Detector.load(tmp_path / "sm")
    assert det.class_names == NAMES and det.input_size == 64
    assert_same(det.detect(photo, score_threshold=SCORE), reference)
    assert "savedmodel" in result.message
    serving = tf.saved_model.load(str(tmp_path / "sm")).signatures["serving_default"]
    out = serving(images=tf.constant(letterboxed(photo)[0]), score_threshold=tf.constant(SCORE),
                  iou_threshold=tf.constant(0.45), max_detections=tf.constant(100))
    assert int(out["valid"][0]) == len(reference)


@pytest.fixture(scope="module")
def tflite_files(checkpoint, tmp_path_factory):
    d = tmp_path_factory.mktemp("tflite")
    return {fmt: export_model(checkpoint, fmt, d / fmt).paths[0] for fmt in ("tflite", "tflite16")}


def run_tflite(path, photo):
    interp = tf.lite.Interpreter(model_path=str(path))
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], letterboxed(photo)[0])
    interp.invoke()
    return interp.get_tensor(interp.get_output_details()[0]["index"])


def test_tflite_reloads_with_the_same_detections(tflite_files, photo, reference):
    assert tflite_files["tflite"].suffix == ".tflite"
    assert_same(detections_from_decoded(run_tflite(tflite_files["tflite"], photo), photo), reference)


def test_float16_tflite_is_half_the_size_with_near_detections(tflite_files, photo, reference):
    f32, f16 = (tflite_files[k].stat().st_size for k in ("tflite", "tflite16"))
    assert 0.4 < f16 / f32 < 0.6
    dets = detections_from_decoded(run_tflite(tflite_files["tflite16"], photo), photo)
    assert_close(dets, reference, score_tol=0.02)


def test_onnx_reloads_with_the_same_detections(checkpoint, photo, reference, tmp_path):
    pytest.importorskip("tf2onnx", reason="the optional 'onnx' extra is not installed")
    ort = pytest.importorskip("onnxruntime")
    path = export_model(checkpoint, "onnx", tmp_path / "model.onnx").paths[0]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    decoded = session.run(None, {session.get_inputs()[0].name: letterboxed(photo)[0]})[0]
    assert_same(detections_from_decoded(decoded, photo), reference)


def test_darknet_export_reloads_with_the_same_detections(checkpoint, photo, reference, tmp_path):
    paths = export_model(checkpoint, "darknet", tmp_path / "model").paths
    assert [p.name for p in paths] == ["model.weights", "model.cfg", "model.names"]
    det = Detector.load(paths[0], classes=paths[2])
    assert det.class_names == NAMES
    assert_same(det.detect(photo, score_threshold=SCORE), reference)


def test_export_cli_writes_and_reports(checkpoint, tmp_path, capsys):
    assert main(["export", "--weights", str(checkpoint) + ".json", "--format", "darknet",
                 "--out", str(tmp_path / "x")]) == 0
    assert "exported as darknet" in capsys.readouterr().out
    assert (tmp_path / "x.cfg").is_file()


def test_export_cli_bad_input_is_one_clear_line(checkpoint, tmp_path, capsys):
    assert main(["export", "--weights", str(tmp_path / "none.weights"), "--format", "onnx",
                 "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "none.weights" in err and "Traceback" not in err
    assert main(["export", "--weights", str(checkpoint), "--format", "tflite", "--size", "50",
                 "--out", str(tmp_path / "o")]) == 1
    assert "--size must be a positive multiple of 32, got 50" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="format 'caffe'"):
        export_model(checkpoint, "caffe", tmp_path / "o")


# --- writing safely: an export never destroys what it did not write (review #108-#110) ---

def user_folder(path):
    """A folder of someone's work: an image and its label."""
    path.mkdir(parents=True)
    (path / "a.jpg").write_bytes(b"\xff\xd8 pixels")
    (path / "a.xml").write_text("<annotation/>")
    return {p.name: p.read_bytes() for p in path.iterdir()}


def export_cli(*args):
    return main(["export", *map(str, args)])


def test_savedmodel_never_replaces_a_folder_of_user_files(checkpoint, tmp_path, capsys):
    before = user_folder(tmp_path / "my_labels")
    for extra in ([], ["--overwrite"]):
        assert export_cli("--weights", checkpoint, "--format", "savedmodel",
                          "--out", tmp_path / "my_labels", *extra) == 1
        err = capsys.readouterr().err
        assert "not a SavedModel export" in err and "Traceback" not in err
        assert {p.name: p.read_bytes() for p in (tmp_path / "my_labels").iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["my_labels"], "no temporary folder left behind"


def test_savedmodel_over_a_file_or_dot_is_refused_clearly(checkpoint, tmp_path, capsys, monkeypatch):
    (tmp_path / "notes.txt").write_text("mine")
    assert export_cli("--weights", checkpoint, "--format", "savedmodel",
                      "--out", tmp_path / "notes.txt", "--overwrite") == 1
    assert "is not a folder" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "mine"
    monkeypatch.chdir(tmp_path)
    for fmt in ("savedmodel", "tflite"):
        assert export_cli("--weights", checkpoint, "--format", fmt, "--out", ".") == 1
        err = capsys.readouterr().err
        assert str(tmp_path) in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_savedmodel_replaces_only_its_own_earlier_export(checkpoint, tmp_path, capsys):
    export_model(checkpoint, "savedmodel", tmp_path / "sm")
    assert export_cli("--weights", checkpoint, "--format", "savedmodel", "--out", tmp_path / "sm") == 1
    assert "--overwrite" in capsys.readouterr().err
    assert export_cli("--weights", checkpoint, "--format", "savedmodel", "--out", tmp_path / "sm",
                      "--overwrite") == 0
    assert Detector.load(tmp_path / "sm").class_names == NAMES
    (tmp_path / "sm" / "variables" / "my_notes.txt").write_text("mine")
    assert export_cli("--weights", checkpoint, "--format", "savedmodel", "--out", tmp_path / "sm",
                      "--overwrite") == 1
    assert (tmp_path / "sm" / "variables" / "my_notes.txt").read_text() == "mine"


def test_file_exports_replace_an_existing_file_only_with_overwrite(checkpoint, tmp_path, capsys):
    (tmp_path / "model.cfg").write_text("my own darknet cfg")
    assert export_cli("--weights", checkpoint, "--format", "darknet", "--out", tmp_path / "model") == 1
    err = capsys.readouterr().err
    assert "model.cfg: already exists; pass --overwrite" in err
    assert (tmp_path / "model.cfg").read_text() == "my own darknet cfg"
    assert not (tmp_path / "model.weights").exists(), "nothing is written when one file is in the way"
    # --overwrite replaces the export it names and that export's own side files; a
    # person's cfg beside no earlier model.weights is neither (attack review 2026-12-01)
    assert export_cli("--weights", checkpoint, "--format", "darknet", "--out", tmp_path / "model",
                      "--overwrite") == 1
    assert "is not a side file of an earlier export" in capsys.readouterr().err
    assert (tmp_path / "model.cfg").read_text() == "my own darknet cfg"
    (tmp_path / "model.cfg").unlink()
    assert export_cli("--weights", checkpoint, "--format", "darknet", "--out", tmp_path / "model") == 0
    assert export_cli("--weights", checkpoint, "--format", "darknet", "--out", tmp_path / "model",
                      "--overwrite") == 0
    assert (tmp_path / "model.cfg").read_text().startswith("[net]")


def test_an_out_name_that_its_own_side_file_would_replace_is_refused(checkpoint, tmp_path, capsys):
    assert export_cli("--weights", checkpoint, "--format", "tflite", "--out", tmp_path / "model.json") == 1
    assert "give a name ending in .tflite" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
