"""Save and load our own checkpoint (file names: :mod:`yolo_studio.core.checkpoint_files`)."""
from __future__ import annotations

import io
import json
import os
from pathlib import Path

import keras

from yolo_studio.core.atomic import atomic_write_bytes, atomic_write_text
from yolo_studio.core.checkpoint_files import WEIGHTS_SUFFIX, checkpoint_files, checkpoint_stem
from yolo_studio.core.errors import ConfigError

from .spec import ModelSpec

def save_checkpoint(model: keras.Model, spec: ModelSpec, path_stem: str | Path) -> Path:
    """Write ``<stem>.weights.h5`` then ``<stem>.json``, each atomically; returns the stem.

    On any OSError (a full disk, a folder gone) both files stay as they were
    and no temporary file is left behind.
    """
    stem = checkpoint_stem(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    weights, spec_file = checkpoint_files(stem)
    data = _weights_h5_bytes(model)
    if data is not None:
        atomic_write_bytes(weights, data)
    else:
        _save_weights_via_file(model, weights)
    atomic_write_text(spec_file, json.dumps(spec.to_dict(), indent=2))
    return stem


def _weights_h5_bytes(model: keras.Model) -> bytes | None:
    """The model's ``.weights.h5`` file built in memory, or None if this Keras cannot.

    HDF5 is kept off the disk on purpose: when Keras' own ``save_weights``
    hit a full disk it left its h5py file open and half-written, and tearing
    that down later crashed the whole process (segfault). Built in memory,
    the only disk I/O is a plain atomic write that fails with an OSError.
    """
    try:
        from keras.src.saving import saving_lib
        store = saving_lib.H5IOStore(io.BytesIO(), mode="w")
    except (ImportError, AttributeError, TypeError):   # a Keras without these internals
        return None
    try:
        # Positional: the last parameter's name differs between Keras 3 releases.
        saving_lib._save_state(model, store, None, "", set())
    finally:
        store.close()
    return store.path_or_io.getvalue()


def _save_weights_via_file(model: keras.Model, weights: Path) -> None:
    # Keras insists on the .weights.h5 ending, so the temp file keeps it.
    tmp = weights.parent / f".{weights.name[:-len(WEIGHTS_SUFFIX)]}.{os.getpid()}.tmp{WEIGHTS_SUFFIX}"
    try:
        model.save_weights(tmp)
        os.replace(tmp, weights)
    finally:
        if tmp.exists():
            tmp.unlink()


def read_spec(path: str | Path) -> ModelSpec:
    """The ModelSpec of a checkpoint, without building the model."""
    stem = checkpoint_stem(path)
    js = checkpoint_files(stem)[1]
    if not js.is_file():
        raise ConfigError(f"{js}: checkpoint description not found (expected beside "
                          f"{stem.name}{WEIGHTS_SUFFIX})")
    try:
        return ModelSpec.from_dict(json.loads(js.read_text(encoding="utf-8")))
    except ConfigError as e:
        raise ConfigError(f"{js}: {e}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise ConfigError(f"{js}: not a YOLO Studio checkpoint description ({e})") from None


def load_checkpoint(path: str | Path, input_size: int | None = None,
                    dtype: str | None = None) -> tuple[keras.Model, ModelSpec]:
    """Rebuild the model of a checkpoint and load its weights (any input size by default)."""
    from .build import build_model

    stem = checkpoint_stem(path)
    spec = read_spec(stem)
    weights = checkpoint_files(stem)[0]
    if not weights.is_file():
        raise ConfigError(f"{weights}: checkpoint weights not found")
    model = build_model(spec.model, spec.num_classes, input_size, dtype)
    try:
        model.load_weights(weights)
    except Exception as e:  # h5py/Keras raise many kinds for a damaged or foreign file
        raise ConfigError(f"{weights}: cannot load weights into {spec.model} with "
                          f"{spec.num_classes} classes ({short_reason(e)}); the weights may come "
                          f"from another model than {stem.name}.json describes") from None
    return model, spec


def short_reason(e: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message, cut to ``limit`` characters.

    Keras puts whole layer listings and tensor values in its messages
    (16 KB for one mismatched file); a user needs the gist, not that.
    """
    text = str(e).strip().splitlines()
    first = text[0].strip() if text else type(e).__name__
    return first if len(first) <= limit else first[: limit - 1] + "…"
