"""Converted models cached next to the weights they came from, keyed by the weights' content.

``<stem>.runtime/`` beside a checkpoint (``<name>.weights.runtime/`` beside
darknet weights) holds ``<key>.onnx``, ``<key>.xml`` + ``<key>.bin`` and
``auto-<key>.json`` (the measured choice). The key hashes the weight files'
bytes, the input size, the converter's version and our graph's version, so a
retrained checkpoint or a new converter never reuses a stale conversion. The
folder follows the output-guard rules: files are written atomically, listed
in its manifest, and a file there that we did not write is never replaced
(nor trusted: it is converted again in memory).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from yolo_studio.core.atomic import atomic_write_text
from yolo_studio.core.checkpoint_files import WEIGHTS_SUFFIX, checkpoint_stem
from yolo_studio.core.model.loading import model_kind
from yolo_studio.core.output_guard import OutputFolder, OutputRefused

# Bump when the exported graph changes (inputs, decode, outputs).
GRAPH_VERSION = "uint8-nhwc-decoded-v1"
COMMAND = "runtime cache"


def source_files(path, cfg=None) -> tuple[Path | None, list[Path]]:
    """(cache folder, files whose bytes define the model) for a checkpoint or darknet weights.

    (None, []) for anything else (a SavedModel, an in-memory model): not cached.
    """
    try:
        kind = model_kind(path)
    except Exception:  # noqa: BLE001 - any unreadable path simply has no cache
        return None, []
    p = Path(path)
    if kind == "checkpoint":
        stem = checkpoint_stem(p)
        return (stem.parent / f"{stem.name}.runtime",
                [stem.parent / (stem.name + WEIGHTS_SUFFIX), stem.parent / (stem.name + ".json")])
    if kind == "darknet":
        cfg = Path(cfg) if cfg is not None else p.with_suffix(".cfg")
        return p.parent / f"{p.name}.runtime", [p] + ([cfg] if cfg.is_file() else [])
    return None, []


def content_key(files, *parts) -> str:
    """16 hex digits of sha256 over the files' bytes and ``parts``."""
    h = hashlib.sha256(GRAPH_VERSION.encode())
    for f in files:
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    for part in parts:
        h.update(b"\0" + str(part).encode())
    return h.hexdigest()[:16]


# An uncached conversion goes to a system temp folder of this name; discard() removes only such.
_UNCACHED_PREFIX = "yolo-studio-runtime-"

class RuntimeCache:
    """One model's cache folder (or none: conversions then live in a temporary folder)."""

    def __init__(self, folder: Path | None, key: str):
        self.folder = folder
        self.key = key
        self.message = ""

    def _guard(self) -> OutputFolder | None:
        if self.folder is None:
            return None
        try:
            return OutputFolder(self.folder, COMMAND, overwrite=True)
        except OutputRefused as e:
            self.message = str(e)
            return None

    def lookup(self, suffixes) -> Path | None:
        """The cached primary file for these suffixes when every part is ours and unchanged."""
        guard = self._guard()
        rels = [f"{self.key}{s}" for s in suffixes]
        if guard is not None and all(guard.is_own(r) for r in rels):
            return guard.path(rels[0])
        return None

    def store(self, suffixes, make) -> tuple[Path, bool]:
        """Run ``make(path)`` to write the files, then move them into the cache: (primary path, cached)."""
        guard = self._guard()
        rels = [f"{self.key}{s}" for s in suffixes]
        try:
            if guard is None:
                raise OutputRefused(self.message or "no cache folder for this model")
            guard.check(rels)
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=self.folder))
        except (OSError, OutputRefused) as e:
            self.message = f"conversion not cached ({e})"
            tmp = Path(tempfile.mkdtemp(prefix=_UNCACHED_PREFIX))
            make(tmp / f"model{suffixes[0]}")
            return tmp / f"model{suffixes[0]}", False
        try:
            make(tmp / f"model{suffixes[0]}")
            # The primary file last: when it is there, its companions are complete.
            for suffix, rel in reversed(list(zip(suffixes, rels))):
                os.replace(tmp / f"model{suffix}", guard.path(rel))   # same folder: atomic
                guard.record(guard.path(rel))
            guard.close()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return guard.path(rels[0]), True

    @staticmethod
    def discard(path: Path) -> None:
        """Remove an uncached conversion's temp folder (one ``store`` made); nothing else."""
        folder = Path(path).parent
        if folder.name.startswith(_UNCACHED_PREFIX) and folder.parent == Path(tempfile.gettempdir()):
            shutil.rmtree(folder, ignore_errors=True)

    def read_choice(self) -> dict | None:
        """The measured 'auto' choice stored for this key, if ours."""
        rel = f"auto-{self.key}.json"
        guard = self._guard()
        if guard is None or not guard.is_own(rel):
            return None
        try:
            return json.loads(guard.path(rel).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def write_choice(self, data: dict) -> None:
        """Keep the measured choice (best effort: a read-only folder only costs a re-measure)."""
        guard = self._guard()
        rel = f"auto-{self.key}.json"
        try:
            if guard is None:
                return
            guard.check([rel])
            atomic_write_text(guard.path(rel), json.dumps(data, indent=1) + "\n")
            guard.record(guard.path(rel))
            guard.close()
        except (OSError, OutputRefused) as e:
            self.message = f"choice not cached ({e})"


def cpu_name() -> str:
    """The CPU model (part of the 'auto' key: a choice measured on one CPU is not another's)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip() + f" x{os.cpu_count()}"
    except OSError:
        pass
    import platform

    return f"{platform.processor() or platform.machine()} x{os.cpu_count()}"
