"""Image folders that lie outside their project's root, remembered per user.

The writers' guard (:mod:`yolo_studio.core.output_guard`) recognises a
project's folders by finding ``yolo_studio.json`` in a folder or above it. A
project may name an image folder elsewhere (``image_dirs`` keeps absolute
paths), and nothing in that folder points back at the project, so
``detect --out <that folder> --overwrite`` would add box-drawn copies to the
project's training images. Projects saved or opened here list such folders in
one small per-user file; the guard asks it. A project only ever opened on
another machine is not known here (said in the README).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from .atomic import atomic_write_text
from .paths import user_data_dir

REGISTRY_NAME = "external_image_dirs.json"


def _registry() -> Path:
    return user_data_dir() / REGISTRY_NAME


def _read() -> dict[str, list[str]]:
    try:
        data = json.loads(_registry().read_text(encoding="utf-8"))
        return {str(k): [str(r) for r in v] for k, v in data.items() if isinstance(v, list)}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def _real(path) -> str:
    return os.path.realpath(path)


def remember(root: Path, image_dirs) -> None:
    """Note every folder of ``image_dirs`` outside ``root`` as ``root``'s (best effort)."""
    root_real = Path(_real(root))
    outside = [_real(d) for d in image_dirs
               if root_real != Path(_real(d)) and root_real not in Path(_real(d)).parents]
    if not outside:
        return
    known = _read()
    if all(str(root_real) in known.get(d, []) for d in outside):
        return
    for d in outside:
        known[d] = sorted({*known.get(d, []), str(root_real)})
    try:
        atomic_write_text(_registry(), json.dumps(known, indent=1, sort_keys=True) + "\n")
    except OSError:
        pass    # an unwritable home only loses this extra check, never the user's data


def owners(folder) -> list[Path]:
    """Project roots known to use ``folder`` as an image folder (their project file still says so;
    one that cannot be read counts, so the guard errs on the safe side)."""
    real = _real(folder)
    found = []
    for root in _read().get(real, []):
        file = Path(root) / "yolo_studio.json"
        try:
            dirs = json.loads(file.read_text(encoding="utf-8")).get("image_dirs") or []
            named = {_real(Path(root) / d) for d in dirs if isinstance(d, str)}
        except FileNotFoundError:
            continue          # the project is gone
        except (OSError, ValueError, AttributeError):
            named = {real}
        if real in named:
            found.append(Path(root))
    return found
