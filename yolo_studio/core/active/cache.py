"""Per-checkpoint score files: scoring an image twice with the same weights is never needed.

A cache file is named by a hash of the checkpoint's bytes and the scoring
settings, so new weights never read old scores. Each row also keeps the
image's size and modification time: a replaced image is scored again. The
files are this module's own output (runs/active_cache/, written atomically);
a file there that is not one of ours is left alone and not used.
"""
from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from yolo_studio.core.atomic import atomic_write_bytes

CACHE_DIR = "active_cache"
WRITTEN_BY = "yolo-studio active-learning scores"
VERSION = 2          # 2: uncertainty weighted by each candidate's score


def weights_files(weights) -> list[Path]:
    """The files whose bytes define a model: a checkpoint's two halves, or the one weights file."""
    from yolo_studio.core.checkpoint_files import WEIGHTS_SUFFIX, checkpoint_stem, is_checkpoint

    p = Path(weights)
    if is_checkpoint(p):
        stem = checkpoint_stem(p)
        return [stem.parent / (stem.name + WEIGHTS_SUFFIX), stem.parent / (stem.name + ".json")]
    if p.suffix == ".weights" and p.with_suffix(".cfg").is_file():
        return [p, p.with_suffix(".cfg")]
    return [p]


def checkpoint_key(weights, settings: dict) -> str:
    """A hash of the model's bytes and the scoring settings (input sizes, version)."""
    h = hashlib.sha256(json.dumps({**settings, "version": VERSION}, sort_keys=True).encode())
    for f in weights_files(weights):
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()[:24]


def image_stamp(path: Path) -> tuple[int, int]:
    """(size, mtime_ns): a changed image gets new scores."""
    st = Path(path).stat()
    return int(st.st_size), int(st.st_mtime_ns)


@dataclass
class ScoreTable:
    """Scores of images by key (path relative to the project): uncertainty, consistency, embedding."""

    rows: dict[str, tuple[float, float, np.ndarray, tuple[int, int]]] = field(default_factory=dict)

    def get(self, key: str, stamp: tuple[int, int]):
        """(uncertainty, consistency, embedding) if scored for this very file, else None."""
        row = self.rows.get(key)
        return None if row is None or tuple(row[3]) != tuple(stamp) else row[:3]

    def put(self, key: str, unc: float, cons: float, emb: np.ndarray, stamp) -> None:
        self.rows[key] = (float(unc), float(cons), np.asarray(emb, np.float32), tuple(stamp))


def cache_path(runs_dir: Path, key: str) -> Path:
    """Where the scores for checkpoint ``key`` are kept."""
    return Path(runs_dir) / CACHE_DIR / f"scores-{key}.npz"


def load(path: Path, key: str) -> tuple[ScoreTable, str | None]:
    """The table in ``path`` (empty if none), and a note when a file there is not ours."""
    if not path.exists():
        return ScoreTable(), None
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("written_by") != WRITTEN_BY or meta.get("key") != key:
                raise ValueError("not a score file of this checkpoint")
            keys, stamps = [str(k) for k in data["keys"]], data["stamps"]
            unc, cons, emb = data["uncertainty"], data["consistency"], data["embedding"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        return ScoreTable(), f"{path}: not a score file YOLO Studio wrote ({e}); left as it is, scores not cached"
    table = ScoreTable()
    for i, k in enumerate(keys):
        table.put(k, unc[i], cons[i], emb[i], (int(stamps[i][0]), int(stamps[i][1])))
    return table, None


def save(path: Path, key: str, table: ScoreTable) -> None:
    """Write ``table`` to ``path`` atomically (a reader sees the old file or the new one)."""
    keys = sorted(table.rows)
    dim = len(table.rows[keys[0]][2]) if keys else 0
    buf = io.BytesIO()
    np.savez(buf, meta=np.array(json.dumps({"written_by": WRITTEN_BY, "key": key})),
             keys=np.array(keys, dtype=str),
             stamps=np.array([table.rows[k][3] for k in keys], np.int64).reshape(-1, 2),
             uncertainty=np.array([table.rows[k][0] for k in keys], np.float64),
             consistency=np.array([table.rows[k][1] for k in keys], np.float64),
             embedding=np.array([table.rows[k][2] for k in keys], np.float32).reshape(len(keys), dim))
    atomic_write_bytes(path, buf.getvalue())
