"""Export a trained model: SavedModel, TFLite (float32 / float16), ONNX, darknet .weights.

Every format takes RGB float32 images in [0, 1], letterboxed to the model's
square input (as :mod:`yolo_studio.core.detector` prepares them), and gives
boxes in network pixels:
- SavedModel: signatures ``detect`` (also ``serving_default``: images,
  score/iou thresholds, max detections -> NMS-ed boxes/scores/classes/valid)
  and ``decoded`` (images -> (B, N, 5+C) xyxy, objectness, class
  probabilities); ``yolo_studio_spec.json`` inside it holds classes and anchors.
- TFLite and ONNX: the ``decoded`` output for one image (batch 1); run NMS on
  it (TFLite has no built-in per-class NMS op).
- darknet: ``.weights`` + ``.cfg`` + ``.names`` that darknet and OpenCV read.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import tensorflow as tf

from yolo_studio.core.atomic import atomic_write_bytes, atomic_write_text
from yolo_studio.core.errors import ConfigError, YoloStudioError
from yolo_studio.core.model import ModelSpec, decode_predictions, nms
from yolo_studio.core.model.darknet_cfg import write_cfg
from yolo_studio.core.model.darknet_weights import write_darknet_weights
from yolo_studio.core.model.loading import SAVEDMODEL_SPEC, load_keras_model
from yolo_studio.core.model_family import check_input_size
from yolo_studio.core.output_guard import MANIFEST, OutputFolder, OutputRefused, _show, check_new_files
from yolo_studio.core.project import PROJECT_FILE

FORMATS = ("savedmodel", "tflite", "tflite16", "onnx", "darknet")
SUFFIXES = {"tflite": ".tflite", "tflite16": ".tflite", "onnx": ".onnx", "darknet": ".weights"}
# What tf.saved_model.save and we put in a SavedModel folder: a folder holding
# only these (and our spec) is an earlier export, the one folder we may replace.
_SAVEDMODEL_ENTRIES = {"saved_model.pb", "variables", "assets", "fingerprint.pb", SAVEDMODEL_SPEC, MANIFEST}


class ExportError(YoloStudioError):
    """An export that cannot be done here (missing converter, unwritable path)."""


@dataclass
class ExportResult:
    """Files written and a one-line summary for the user."""

    paths: list[Path]
    message: str


class _ServingModule(tf.Module):
    """What a SavedModel holds: the Keras model and its decode + NMS around it."""

    def __init__(self, model, spec: ModelSpec):
        super().__init__()
        # Track only the variables (the functions below reach the model through
        # their closure): tracking the Keras model too makes saving walk every layer.
        self.weights = list(model.weights)
        size, anchors, classes, strides = spec.input_size, spec.anchors, spec.num_classes, spec.strides

        def decoded(images):
            return decode_predictions(model(images, training=False), anchors, classes, strides)

        def detect(images, score_threshold, iou_threshold, max_detections):
            boxes, scores, cls, valid = nms(decoded(images), score_threshold, iou_threshold,
                                            max_detections)
            return {"boxes": boxes, "scores": scores, "classes": cls, "valid": valid}

        image_spec = tf.TensorSpec([None, size, size, 3], tf.float32, name="images")
        self.decoded = tf.function(lambda images: {"decoded": decoded(images)},
                                   input_signature=[image_spec])
        self.detect = tf.function(detect, input_signature=[
            image_spec, tf.TensorSpec([], tf.float32, name="score_threshold"),
            tf.TensorSpec([], tf.float32, name="iou_threshold"),
            tf.TensorSpec([], tf.int32, name="max_detections")])

    def signatures(self) -> dict:
        return {"serving_default": self.detect, "detect": self.detect, "decoded": self.decoded}


def _replace_dir(tmp: Path, out: Path) -> None:
    """Move a finished folder over ``out`` (an earlier export of ours, checked by the caller)."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _is_our_savedmodel(folder: Path) -> bool:
    """True for a folder that holds an earlier SavedModel export and nothing else."""
    names = {p.name for p in folder.iterdir()}
    if SAVEDMODEL_SPEC not in names or "saved_model.pb" not in names or not names <= _SAVEDMODEL_ENTRIES:
        return False
    guard = OutputFolder(folder, "export")
    # With a manifest, every file must be unchanged since export; older exports
    # have none and are recognised by their entries alone.
    return not (folder / MANIFEST).is_file() or not guard.foreign()


def check_savedmodel_target(out: Path, overwrite: bool) -> None:
    """Refuse an ``--out`` folder that is not a new, empty, or (with --overwrite) our earlier export."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise OutputRefused(f"{out}: already exists and is not a folder; a SavedModel is a folder, "
                            f"so choose a new path (the file is left as it is)")
    if not out.exists() or not any(out.iterdir()):
        return
    if not _is_our_savedmodel(out):
        raise OutputRefused(f"{out}: folder already holds files that are not a SavedModel export "
                            f"(a SavedModel replaces the whole folder); choose a new folder; "
                            f"nothing was changed")
    if not overwrite:
        raise OutputRefused(f"{out}: holds an earlier SavedModel export; pass --overwrite to replace it")


def export_savedmodel(model, spec: ModelSpec, out: str | Path, overwrite: bool = False) -> Path:
    """Write a SavedModel folder with detect / serving_default / decoded signatures."""
    out = Path(os.path.abspath(out))
    check_savedmodel_target(out, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        module = _ServingModule(model, spec)
        tf.saved_model.save(module, str(tmp), signatures=module.signatures())
        (tmp / SAVEDMODEL_SPEC).write_text(json.dumps(spec.to_dict(), indent=2), encoding="utf-8")
        guard = OutputFolder(tmp, "export")
        for f in tmp.rglob("*"):
            if f.is_file():
                guard.record(f)
        guard.close()
        check_savedmodel_target(out, overwrite)   # again: the save took a while
        _replace_dir(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def export_tflite(model, spec: ModelSpec, out: str | Path, float16: bool = False) -> Path:
    """Write a .tflite (batch 1, decoded output); float16 halves the weights' size."""
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    out = Path(out)

    @tf.function(input_signature=[tf.TensorSpec([1, spec.input_size, spec.input_size, 3], tf.float32,
                                                name="images")])
    def decoded_one(images):
        return {"decoded": decode_predictions(model(images, training=False), spec.anchors,
                                              spec.num_classes, spec.strides)}

    # Converting a function that captures Keras 3 variables silently drops the
    # weights (NaN outputs); freezing them into constants first avoids that.
    frozen = convert_variables_to_constants_v2(decoded_one.get_concrete_function())
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen])
    if float16:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    try:
        data = converter.convert()
    except Exception as e:  # the converter raises its own ConverterError and others
        raise ExportError(f"TFLite conversion failed ({type(e).__name__}: {e})") from e
    atomic_write_bytes(out, data)
    atomic_write_text(out.with_suffix(".json"), json.dumps(spec.to_dict(), indent=2))
    return out


def export_onnx(model, spec: ModelSpec, out: str | Path, opset: int = 17) -> Path:
    """Write an .onnx (batch 1, decoded output) with tf2onnx (the optional 'onnx' extra)."""
    try:
        import tf2onnx
    except ImportError as e:
        raise ExportError("ONNX export needs tf2onnx, which is not installed: "
                          "pip install 'yolo-studio[onnx]'") from e
    out = Path(out)

    @tf.function
    def fn(images):
        return decode_predictions(model(images, training=False), spec.anchors, spec.num_classes,
                                  spec.strides)

    signature = [tf.TensorSpec([1, spec.input_size, spec.input_size, 3], tf.float32, name="images")]
    try:
        proto, _ = tf2onnx.convert.from_function(fn, input_signature=signature, opset=opset)
    except Exception as e:  # tf2onnx raises many kinds when an op has no ONNX mapping
        raise ExportError(f"tf2onnx {tf2onnx.__version__} could not convert the model with "
                          f"TensorFlow {tf.__version__} ({type(e).__name__}: {e})") from e
    atomic_write_bytes(out, proto.SerializeToString())
    atomic_write_text(out.with_suffix(".json"), json.dumps(spec.to_dict(), indent=2))
    return out


def export_darknet(model, spec: ModelSpec, out: str | Path) -> list[Path]:
    """Write ``out`` (.weights) with the .cfg and .names beside it."""
    out = Path(out)
    weights = write_darknet_weights(model, out)
    cfg = write_cfg(out.with_suffix(".cfg"), spec.model, spec.num_classes, spec.anchors, spec.input_size)
    names = out.with_suffix(".names")
    atomic_write_text(names, "\n".join(spec.class_names) + "\n")
    return [weights, cfg, names]


def export_targets(fmt: str, out) -> list[Path]:
    """Every path ``fmt`` writes for ``--out out`` (a file format's side files too)."""
    out = Path(os.path.abspath(out))
    if fmt == "savedmodel":
        return [out]
    if out.is_dir():
        raise OutputRefused(f"{out}: is a folder; --format {fmt} writes a file, so give a file name "
                            f"such as {out / ('model' + SUFFIXES[fmt])}")
    if not out.suffix:
        out = out.with_suffix(SUFFIXES[fmt])
    targets = ([out, out.with_suffix(".cfg"), out.with_suffix(".names")] if fmt == "darknet"
               else [out, out.with_suffix(".json")])
    if len(set(targets)) < len(targets):     # --out model.json would be overwritten by its own spec
        raise OutputRefused(f"{out}: --format {fmt} also writes {', '.join(t.name for t in targets[1:])} "
                            f"beside it; give a name ending in {SUFFIXES[fmt]}")
    return targets


def _check_side_files(targets: list[Path]) -> None:
    """Refuse side files (.json, .cfg, .names) that are not part of an earlier export at ``targets[0]``.

    --overwrite is consent to replace the file named on the command line and
    its own side files, not a person's ``train.json`` (COCO labels), a
    project's yolo_studio.json or a hand-written .names that only share its stem.
    """
    out, sides = targets[0], targets[1:]
    foreign = [p for p in sides if (p.exists() or p.is_symlink())
               and not (out.is_file() and _looks_like_our_side_file(p))]
    if foreign:
        raise OutputRefused(f"{_show(foreign)}: already exists and is not a side file of an earlier "
                            f"export to {out.name}, so export would replace it (--overwrite replaces only "
                            "the export itself and its own side files); choose another --out name")


def _looks_like_our_side_file(path: Path) -> bool:
    if path.is_symlink() or not path.is_file():
        return False
    if path.suffix != ".json":
        return True          # .cfg/.names beside an earlier .weights: that export's own
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        ModelSpec.from_dict(data)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, YoloStudioError):
        return False
    return isinstance(data, dict) and PROJECT_FILE != path.name


def export_model(weights, fmt: str, out, classes=None, cfg=None,
                 input_size: int | None = None, overwrite: bool = False) -> ExportResult:
    """Load ``weights`` (checkpoint or darknet) and write it as ``fmt`` at ``out``.

    Checked before the model is loaded: an existing target is replaced only
    with ``overwrite``, and a folder only if it is an earlier SavedModel export.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"export format '{fmt}' is unknown; choose one of {', '.join(FORMATS)}")
    if input_size is not None:
        check_input_size(int(input_size), "--size")
    targets = export_targets(fmt, out)
    if fmt == "savedmodel":
        check_savedmodel_target(targets[0], overwrite)
    else:
        check_new_files(targets, "export", overwrite)
        _check_side_files(targets)
    model, spec, _ = load_keras_model(weights, classes, cfg, input_size, None)
    out = targets[0]
    try:
        if fmt == "savedmodel":
            paths = [export_savedmodel(model, spec, out, overwrite)]
        elif fmt in ("tflite", "tflite16"):
            paths = [export_tflite(model, spec, out, float16=fmt == "tflite16")]
        elif fmt == "onnx":
            paths = [export_onnx(model, spec, out)]
        else:
            paths = export_darknet(model, spec, out)
    except OSError as e:
        raise ExportError(f"{e.filename or out}: cannot write ({e.strerror or e})") from e
    return ExportResult(paths, f"{spec.model} ({spec.num_classes} classes, {spec.input_size} px) "
                               f"exported as {fmt}: {', '.join(str(p) for p in paths)}")
