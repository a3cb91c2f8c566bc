"""The train/val split of a project of labels beside its images: by a hash of each image's path.

Kept apart from :mod:`yolo_studio.core.project` because it needs nothing but
paths: a file's split depends only on its own path relative to the project root.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path


def hash_fraction(root: Path, image) -> float:
    """A number in [0, 1) fixed by ``image``'s path relative to ``root``."""
    try:
        key = Path(os.path.relpath(Path(image).absolute(), root)).as_posix()
    except ValueError:
        key = Path(image).as_posix()
    digest = hashlib.sha1(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0 ** 64


def hash_split(root: Path, images: list[Path], val_fraction: float) -> tuple[list[Path], list[Path]]:
    """(train, val): val when the hash of the relative path is below ``val_fraction``.

    If the hash leaves val empty in a tiny project, the image with the lowest
    hash goes to val, so validation can run.
    """
    fractions = {p: hash_fraction(root, p) for p in images}
    val = [p for p in images if fractions[p] < val_fraction]
    if not val and len(images) >= 2 and val_fraction > 0:
        val = [min(images, key=fractions.__getitem__)]
    chosen = set(val)
    return [p for p in images if p not in chosen], val
