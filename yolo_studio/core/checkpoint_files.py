"""Our checkpoint's file names: ``<stem>.weights.h5`` (Keras weights) + ``<stem>.json`` (ModelSpec).

The one rule for "is this checkpoint complete", without TensorFlow, so the
run folders, the Train panel and the model loader all ask here.
"""
from __future__ import annotations

from pathlib import Path

WEIGHTS_SUFFIX = ".weights.h5"
SPEC_SUFFIX = ".json"


def checkpoint_stem(path: str | Path) -> Path:
    """The stem of a checkpoint given its .weights.h5, its .json or the stem itself."""
    p = Path(path)
    for suffix in (WEIGHTS_SUFFIX, SPEC_SUFFIX):
        if p.name.endswith(suffix):
            return p.with_name(p.name[: -len(suffix)])
    return p


def checkpoint_files(path: str | Path) -> tuple[Path, Path]:
    """(weights file, spec file) of the checkpoint ``path`` names (either file or the stem)."""
    stem = checkpoint_stem(path)
    return stem.with_name(stem.name + WEIGHTS_SUFFIX), stem.with_name(stem.name + SPEC_SUFFIX)


def is_checkpoint(path: str | Path) -> bool:
    """True when ``path`` names one of our checkpoints and both its files are there."""
    return all(f.is_file() for f in checkpoint_files(path))
