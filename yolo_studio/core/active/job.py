"""Scoring a list of images with the model, batch by batch, with progress and cancel.

Cancel is checked before every batch, so a cancelled job stops within one
batch; what it scored so far is kept (and cached by the caller).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import cv2

from yolo_studio.core.errors import Problem, YoloStudioError
from yolo_studio.core.images import read_image

from . import signals
from .cache import ScoreTable, image_stamp
from .probe import ModelProbe, second_scale

DEFAULT_BATCH = 8


@dataclass
class JobResult:
    """What a scoring job did."""

    scored: int = 0
    cancelled: bool = False
    problems: list[Problem] = field(default_factory=list)


def score_batch(probe: ModelProbe, images_rgb: list, flip: bool = True) -> list[tuple[float, float, object]]:
    """(uncertainty, consistency, embedding) for each RGB image: three passes (plain, mirrored, rescaled).

    ``flip`` False skips the mirrored pass, for projects that train without
    horizontal flip (digits, text): there a mirrored 2 is not a 2, and the
    model is right to disagree with itself, so consistency is the scale pass.
    """
    size = probe.input_size
    plain, emb, lbs = probe.run(images_rgb, size)
    flipped = probe.run(images_rgb, size, flip=True)[0] if flip else None
    big = second_scale(size)
    rescaled, _, lbs_big = probe.run(images_rgb, big)
    out = []
    for i, im in enumerate(images_rgb):
        h, w = im.shape[:2]
        a = signals.candidates(plain[i], lbs[i], w, h)
        c = signals.candidates(rescaled[i], lbs_big[i], w, h)
        if flip:
            cons = signals.consistency(a, signals.candidates(flipped[i], lbs[i], w, h), c)
        else:
            cons = signals.disagreement(a, c)
        out.append((signals.uncertainty(a), cons, emb[i]))
    return out


def score_images(probe: ModelProbe, images: list[tuple[str, Path]], table: ScoreTable,
                 batch_size: int = DEFAULT_BATCH, progress=None,
                 cancel: threading.Event | None = None, flip: bool = True) -> JobResult:
    """Score ``images`` ((key, path) pairs) into ``table``; ``progress(done, total)`` after each batch.

    An image that cannot be read becomes a Problem naming it; the rest go on.
    """
    result = JobResult()
    total = len(images)
    for start in range(0, total, max(1, int(batch_size))):
        if cancel is not None and cancel.is_set():
            result.cancelled = True
            return result
        batch, rgb = [], []
        for key, path in images[start:start + batch_size]:
            try:
                rgb.append(cv2.cvtColor(read_image(path), cv2.COLOR_BGR2RGB))
                batch.append((key, path, image_stamp(path)))
            except (YoloStudioError, OSError) as e:
                result.problems.append(Problem(str(path), f"not scored: {getattr(e, 'what', e)}"))
        if rgb:
            for (key, _path, stamp), (unc, cons, emb) in zip(batch, score_batch(probe, rgb, flip)):
                table.put(key, unc, cons, emb, stamp)
            result.scored += len(rgb)
        if progress is not None:
            progress(min(start + batch_size, total), total)
    return result
