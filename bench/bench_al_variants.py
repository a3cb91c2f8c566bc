"""Candidate changes to the combination, measured by bench_active_learning.py before any goes into core/active.

Named on the bench's command line beside ``combined:U:C:F``:

- ``ee:U:C:F`` — *expected errors* in the uncertainty slot: each candidate
  counts the chance the model's decision on it at the 0.25 threshold is
  wrong, taking its score as a probability: 1 - s when it is shown (a false
  positive if wrong), s when it is not (a missed object if wrong); summed
  over the image. Uncertainty (entropy + closeness to the threshold) is a
  proxy for that; this is the count mAP punishes.
- ``u2:U:C:F`` — uncertainty weighted by score² instead of score: it tracked
  the start model's errors a little better on bench_al_signals.py (Spearman
  +0.75 / +0.85 against +0.69 / +0.82) and the candidate count much less
  (+0.60 against +0.87); never benchmarked before.
- ``warm:R:U:C:F`` — a warm start: the first R rounds pick at random, later
  ones by ``combined:U:C:F`` (the usual cure for a start model too weak for
  its scores to mean anything).

Scoring runs the very passes core/active does (plain, mirrored, rescaled)
and the same candidates; only the per-image sum differs.
"""
from __future__ import annotations

import numpy as np

SIGNALS = ("ee", "u2")


def parse(name: str):
    """(signal or None, random rounds, 'combined:U:C:F') of a variant name, or None if not a variant."""
    head, _, rest = name.partition(":")
    if head in SIGNALS:
        return head, 0, f"combined:{rest}"
    if head == "warm":
        rounds, _, combo = rest.partition(":")
        try:
            return None, int(rounds), f"combined:{combo}"
        except ValueError:
            raise SystemExit(f"--strategies: '{name}' should be warm:R:U:C:F, e.g. warm:1:0.5:0.5:0")
    return None


def expected_errors(c, threshold: float) -> float:
    """Expected wrong decisions at ``threshold``, each candidate's score read as its probability."""
    s = c.scores
    return float(np.sum(np.where(s >= threshold, 1.0 - s, s)))


def uncertainty_sq(c, threshold: float) -> float:
    """The core uncertainty with each candidate weighted by score² instead of score."""
    from yolo_studio.core.active import signals

    if not len(c.scores):
        return 0.0
    per = [signals.uncertainty(signals.Candidates(c.boxes[[k]], c.scores[[k]], c.classes[[k]], c.probs[[k]]),
                               threshold) for k in range(len(c.scores))]
    return float(np.sum(np.asarray(per) * c.scores))


def score_batch(probe, images_rgb, signal: str):
    """(``signal`` value, consistency, embedding) per image: core/active's passes, another per-image sum."""
    from yolo_studio.core.active import signals
    from yolo_studio.core.active.probe import second_scale
    from yolo_studio.core.defaults import DEFAULT_SCORE_THRESHOLD

    size = probe.input_size
    plain, emb, lbs = probe.run(images_rgb, size)
    flipped = probe.run(images_rgb, size, flip=True)[0]
    rescaled, _, lbs_big = probe.run(images_rgb, second_scale(size))
    first = expected_errors if signal == "ee" else uncertainty_sq
    out = []
    for i, im in enumerate(images_rgb):
        h, w = im.shape[:2]
        a = signals.candidates(plain[i], lbs[i], w, h)
        cons = signals.consistency(a, signals.candidates(flipped[i], lbs[i], w, h),
                                   signals.candidates(rescaled[i], lbs_big[i], w, h))
        out.append((first(a, DEFAULT_SCORE_THRESHOLD), cons, emb[i]))
    return out
