"""Turning per-image signals into an ordered pick: rank-combining, and greedy k-center for diversity.

Signals are compared by rank within the unlabelled pool (0 = least, 1 = most
useful), so a sum of entropies and a sum of disagreements can be mixed
without a scale. The combination keeps the ``pool_factor * k`` images its
weighted ranks like best and, when that is more than ``k``, picks ``k`` of
them by greedy k-center on the backbone embeddings, with the labelled images
as the centres already placed, so twenty near-identical frames cannot all
make the cut. The default (``POOL_FACTOR`` 1) takes the top ``k`` as they
are: on the benchmark k-center did not pay (see the README), except in a
pool of near-identical video frames, which gets a 3k shortlist.
"""
from __future__ import annotations

import numpy as np

from yolo_studio.core.errors import ConfigError

STRATEGIES = ("random", "uncertainty", "consistency", "diversity", "combined")
# Chosen by bench/bench_active_learning.py (README, "What to label next"): of the variants
# measured (weights 0-1 each, shortlists 0, 2k and 3k), 0.5 / 0.5 ranks with no k-center
# reached random's final mAP with the fewest labels (8% fewer; 3k k-center: 8% too, 0.2
# labels more, within the seeds' spread). POOL_FACTOR 1: the top k, no k-center.
DEFAULT_WEIGHTS = {"uncertainty": 0.5, "consistency": 0.5}
POOL_FACTOR = 1
# ... except in a pool of video-like frames (runs of near-identical images, which every per-image
# score ranks side by side): there the top k came from 5-8 scenes of 16 picks and never reached
# random's final mAP, and a 3k shortlist spread by k-center recovered most of it (README,
# "Near-identical frames"). Such a pool is told by the share of its images whose nearest
# neighbour (backbone embedding) is nearer than NEAR_FRACTION of the typical distance between
# two images: independent hard-demo images 0.01-0.04, runs of 5 frames 0.97-1.00, of 2 frames
# 0.49-0.74 (random, 6- and 30-epoch tiny models alike).
NEAR_DUPLICATE_POOL_FACTOR = 3
NEAR_FRACTION = 0.25
NEAR_SHARE = 0.25
_NEAR_SAMPLE = 512      # images whose nearest neighbour is looked for (in the whole pool)
_BLOCK = 8192           # pool rows per distance block: memory stays ~_NEAR_SAMPLE x _BLOCK floats


def rank01(values: np.ndarray) -> np.ndarray:
    """Each value's rank in [0, 1] (ties share the mean rank); a single value gets 1."""
    values = np.asarray(values, np.float64)
    n = len(values)
    if n <= 1:
        return np.ones(n)
    # ties share their mean rank, so an ordering never depends on file order
    uniq, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    ranks = (first + (counts - 1) / 2.0)[inverse]
    return ranks / (n - 1)


def combined_score(unc: np.ndarray, cons: np.ndarray, weights: dict | None = None) -> np.ndarray:
    """Weighted sum of the signals' ranks in the pool."""
    w = DEFAULT_WEIGHTS if weights is None else weights
    return w.get("uncertainty", 0.0) * rank01(unc) + w.get("consistency", 0.0) * rank01(cons)


def k_center(emb: np.ndarray, k: int, centres: np.ndarray | None = None, first: int = 0) -> list[int]:
    """Greedy k-center: each pick is the row of ``emb`` farthest from every centre so far.

    ``centres`` are embeddings already covered (the labelled images); without
    them the first pick is ``first``.
    """
    n = len(emb)
    k = min(int(k), n)
    if k <= 0:
        return []
    if centres is not None and len(centres):
        dist = _min_dist(emb, centres)
        picks = []
    else:
        picks = [int(first)]
        dist = _min_dist(emb, emb[picks])
    while len(picks) < k:
        dist[picks] = -1.0
        i = int(np.argmax(dist))       # argmax takes the first of equals: deterministic
        picks.append(i)
        dist = np.minimum(dist, _min_dist(emb, emb[[i]]))
    return picks


def near_duplicate_share(emb: np.ndarray, seed: int = 0) -> float:
    """The share of (a sample of) the pool whose nearest neighbour in the pool is nearer than
    NEAR_FRACTION of the median distance between two images; 0 for fewer than 3 images."""
    emb = np.asarray(emb, np.float64)
    n = len(emb)
    if n < 3:
        return 0.0
    q = np.sort(np.random.default_rng(seed).choice(n, min(n, _NEAR_SAMPLE), replace=False))
    typical = _pairwise(emb[q], emb[q])[np.triu_indices(len(q), 1)]
    scale = float(np.median(typical)) if typical.size else 0.0
    if scale <= 0.0:
        return 1.0 if n > 1 else 0.0        # all alike
    nearest = np.full(len(q), np.inf)
    for start in range(0, n, _BLOCK):
        d = _pairwise(emb[q], emb[start:start + _BLOCK])
        own = q[:, None] == np.arange(start, start + d.shape[1])[None, :]
        d[own] = np.inf
        nearest = np.minimum(nearest, d.min(axis=1))
    return float(np.mean(nearest < NEAR_FRACTION * scale))


def has_near_duplicates(emb: np.ndarray, seed: int = 0) -> bool:
    """True for a video-like pool, where the default spreads its picks by k-center."""
    return near_duplicate_share(emb, seed) >= NEAR_SHARE


def _pairwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d2 = (a ** 2).sum(1)[:, None] + (b ** 2).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(d2, 0.0))


def _min_dist(emb: np.ndarray, centres: np.ndarray) -> np.ndarray:
    return _pairwise(emb, centres).min(axis=1)


def pick(strategy: str, unc: np.ndarray, cons: np.ndarray, emb: np.ndarray, k: int,
         labelled_emb: np.ndarray | None = None, seed: int = 0, weights: dict | None = None,
         pool_factor: int | None = None) -> list[int]:
    """Indices into the unlabelled pool, most useful first, ``k`` of them (fewer if the pool is smaller).

    ``pool_factor`` (default :data:`POOL_FACTOR`, or :data:`NEAR_DUPLICATE_POOL_FACTOR` for a
    pool of near-identical frames) sizes the combination's shortlist for k-center; 0 or 1
    picks the top ``k`` by score, no k-center.
    """
    n = len(unc)
    k = min(int(k), n)
    if strategy not in STRATEGIES:
        raise ConfigError(f"strategy '{strategy}' is unknown; choose one of {', '.join(STRATEGIES)}")
    if k <= 0:
        return []
    if strategy == "random":
        return [int(i) for i in np.random.default_rng(seed).permutation(n)[:k]]
    if strategy in ("uncertainty", "consistency"):
        return _top(unc if strategy == "uncertainty" else cons, k)
    if strategy == "diversity":
        return k_center(emb, k, labelled_emb, first=int(np.random.default_rng(seed).integers(n)))
    score = combined_score(unc, cons, weights)
    if pool_factor is not None:
        factor = int(pool_factor)
    else:
        factor = NEAR_DUPLICATE_POOL_FACTOR if has_near_duplicates(emb, seed) else POOL_FACTOR
    if factor <= 1:
        return _top(score, k)
    shortlist = np.array(_top(score, min(n, factor * k)))
    chosen = k_center(emb[shortlist], k, labelled_emb, first=0)
    return [int(shortlist[i]) for i in chosen]


def _top(values: np.ndarray, k: int) -> list[int]:
    order = np.argsort(-np.asarray(values, np.float64), kind="stable")
    return [int(i) for i in order[:k]]


def order_all(strategy: str, unc, cons, emb, n_first: int, labelled_emb=None, seed: int = 0,
              weights: dict | None = None, pool_factor: int | None = None) -> list[int]:
    """The whole pool in suggestion order: the first ``n_first`` by :func:`pick`, the rest by score."""
    first = pick(strategy, unc, cons, emb, n_first, labelled_emb, seed, weights, pool_factor)
    score = {"uncertainty": unc, "consistency": cons}.get(strategy)
    if score is None:
        score = combined_score(unc, cons, weights) if strategy in ("combined", "diversity") else \
            np.random.default_rng(seed).random(len(unc))
    taken = set(first)
    return first + [i for i in _top(score, len(unc)) if i not in taken]
