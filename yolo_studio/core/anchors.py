"""Fit YOLO anchors to a project's boxes (IoU k-means) and measure how well anchors fit.

Numpy only: no TensorFlow, no Qt. Anchors are ``(w, h)`` in network-input
pixels; boxes are scaled exactly as training letterboxes their image, so an
anchor fitted here matches the boxes the trainer will see.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, NamedTuple

import numpy as np

from yolo_studio.core.errors import ConfigError, Problem, YoloStudioError
from yolo_studio.core.model_family import AnchorSet, check_input_size, family

# k-means restarts run on a random subsample this big: cluster centres of 10k
# boxes are nearly as good as those of 1M, so the full data only needs a short
# polish. The genetic step sees up to GENETIC_SAMPLE_SIZE boxes, because its
# gains are small enough to drown in a smaller sample's noise (the bench checks
# both the speed and the fit against plain median k-means).
SAMPLE_SIZE = 10_000
GENETIC_SAMPLE_SIZE = 100_000
POLISH_ITERATIONS = 15
# Rows per block when comparing every box with every anchor, so memory stays
# bounded for millions of boxes.
CHUNK = 1 << 16
# ultralytics' autoanchor threshold: a box "fits" an anchor when neither side
# differs by more than this factor.
RATIO_THRESHOLD = 4.0

Progress = Callable[[float], None]


class FitCancelled(YoloStudioError):
    """The user stopped the fit before it finished."""

    def __init__(self) -> None:
        super().__init__("anchor fitting was cancelled")


class BoxSizes(NamedTuple):
    """Box sizes at the network input, where each came from, and what was skipped."""

    wh: np.ndarray                    # (N, 2) float32 network pixels
    refs: list[tuple[Path, int]]      # (image path, index of the box in that image)
    skipped: list[Problem]


@dataclass(frozen=True)
class FitMetrics:
    """How well a set of anchors covers the boxes."""

    mean_iou: float          # mean over boxes of the best anchor IoU (darknet's avg IoU)
    bpr: float               # best possible recall at the ratio threshold (ultralytics)
    anchors_above: float     # mean number of anchors within the ratio threshold per box
    iou_above_half: float    # share of boxes whose best anchor IoU exceeds 0.5
    n_boxes: int
    ratio_threshold: float = RATIO_THRESHOLD


# ---------------------------------------------------------------- box sizes

def collect_box_sizes(annotations: Iterable, input_size: int) -> BoxSizes:
    """Widths and heights of every box, letterboxed to ``input_size``, with their origins."""
    input_size = check_input_size(input_size)
    sizes: list[tuple[float, float]] = []
    refs: list[tuple[Path, int]] = []
    skipped: list[Problem] = []
    for ann in annotations:
        if not ann.boxes:
            continue
        if ann.width <= 0 or ann.height <= 0:
            skipped.append(Problem(str(ann.image_path),
                                   f"image size {ann.width}x{ann.height} is unknown; its boxes are skipped"))
            continue
        scale = min(input_size / ann.width, input_size / ann.height)
        for i, box in enumerate(ann.boxes):
            w, h = box.width * scale, box.height * scale
            if not (np.isfinite(w) and np.isfinite(h)) or w <= 0 or h <= 0:
                skipped.append(Problem(str(ann.image_path),
                                       f"box {i} ({box.label}) has zero or negative size; skipped"))
                continue
            sizes.append((w, h))
            refs.append((ann.image_path, i))
    wh = np.asarray(sizes, dtype=np.float32).reshape(-1, 2)
    return BoxSizes(wh, refs, skipped)


def table_box_sizes(table, input_size: int) -> tuple[BoxSizes, np.ndarray]:
    """:func:`collect_box_sizes` of a BoxTable's boxes (same numbers, no Box objects); and which
    of the table's boxes were kept."""
    input_size = check_input_size(input_size)
    iw, ih = table.image_wh.T
    known = (iw > 0) & (ih > 0)
    skipped = [Problem(str(table.paths[i]), f"image size {iw[i]:g}x{ih[i]:g} is unknown; its boxes are skipped")
               for i in np.unique(table.image[~known[table.image]]).tolist()]
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.minimum(input_size / iw, input_size / ih)[table.image]
        wh = table.wh * scale[:, None]
    keep = known[table.image] & np.isfinite(wh).all(axis=1) & (wh > 0).all(axis=1)
    for i in np.flatnonzero(known[table.image] & ~keep).tolist():
        skipped.append(Problem(str(table.paths[table.image[i]]), f"box {table.index[i]} "
                               f"({table.classes[table.cls[i]]}) has zero or negative size; skipped"))
    paths = table.paths
    refs = [(paths[i], j) for i, j in zip(table.image[keep].tolist(), table.index[keep].tolist())]
    return BoxSizes(wh[keep].astype(np.float32).reshape(-1, 2), refs, skipped), keep


# ---------------------------------------------------------------- IoU helpers

def _clean(wh) -> np.ndarray:
    """Finite, positive sizes as float32 (N, 2); zero-size boxes have no IoU with anything."""
    arr = np.asarray(wh, dtype=np.float32).reshape(-1, 2)
    keep = np.isfinite(arr).all(axis=1) & (arr > 0).all(axis=1)
    return np.ascontiguousarray(arr[keep])


class _Cols(NamedTuple):
    """Box widths, heights and areas as separate contiguous float32 columns.

    IoU is computed as (k, n) so the reductions over the k anchors run along
    contiguous memory: about three times faster than (n, k) for k = 9.
    """

    w: np.ndarray
    h: np.ndarray
    area: np.ndarray

    @classmethod
    def of(cls, wh: np.ndarray) -> "_Cols":
        w = np.ascontiguousarray(wh[:, 0], dtype=np.float32)
        h = np.ascontiguousarray(wh[:, 1], dtype=np.float32)
        return cls(w, h, w * h)

    def take(self, index: np.ndarray) -> "_Cols":
        return _Cols(self.w[index], self.h[index], self.area[index])

    def __len__(self) -> int:
        return len(self.w)


def _iou_kn(c: _Cols, anchors: np.ndarray, s: int = 0, e: int | None = None) -> np.ndarray:
    """Corner-aligned IoU of every anchor with boxes s..e: (k, n)."""
    w, h, ar = c.w[s:e], c.h[s:e], c.area[s:e]
    a = anchors.astype(np.float32, copy=False)
    inter = np.minimum(a[:, 0:1], w[None, :])
    inter *= np.minimum(a[:, 1:2], h[None, :])
    union = (a[:, 0] * a[:, 1])[:, None] + ar[None, :]
    union -= inter
    inter /= union
    return inter


def _best(c: _Cols, anchors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index and IoU of each box's best anchor, computed block by block."""
    n = len(c)
    idx = np.empty(n, dtype=np.intp)
    best = np.empty(n, dtype=np.float32)
    for s in range(0, n, CHUNK):
        iou = _iou_kn(c, anchors, s, s + CHUNK)
        best[s:s + CHUNK] = iou.max(axis=0)
        idx[s:s + CHUNK] = _argmax_rows(iou)
    return idx, best


def _argmax_rows(iou: np.ndarray) -> np.ndarray:
    """argmax over axis 0 of a non-negative (k, n) float32 array, five times faster than numpy's.

    Non-negative floats order like their int32 bit patterns, so the row index
    is packed into the lowest mantissa bits and one contiguous max over rows
    finds value and index together. The packing costs ~2^-18 relative
    precision in the comparison: near-ties may go to the higher index.
    """
    k = len(iou)
    bits = max(1, (k - 1).bit_length())
    if k == 1 or bits > 12:
        return iou.argmax(axis=0) if k > 1 else np.zeros(iou.shape[1], dtype=np.intp)
    packed = iou.view(np.int32) & np.int32(-(1 << bits))
    packed |= np.arange(k, dtype=np.int32)[:, None]
    return (packed.max(axis=0) & np.int32((1 << bits) - 1)).astype(np.intp)


def _fitness(c: _Cols, anchors: np.ndarray) -> float:
    return float(_best(c, anchors)[1].mean(dtype=np.float64))


def assign_clusters(wh, anchors) -> np.ndarray:
    """Index of the anchor with the highest IoU for each box (the box's cluster)."""
    wh = np.asarray(wh, dtype=np.float32).reshape(-1, 2)
    anchors = np.asarray(anchors, dtype=np.float32).reshape(-1, 2)
    if len(wh) == 0:
        return np.zeros(0, dtype=np.intp)
    return _best(_Cols.of(wh), anchors)[0]


def mean_best_iou(wh, anchors) -> float:
    """Mean over boxes of the IoU with their best anchor."""
    wh = _clean(wh)
    if len(wh) == 0:
        raise ConfigError("no boxes with a positive width and height to measure anchors on")
    return _fitness(_Cols.of(wh), np.asarray(anchors, dtype=np.float32).reshape(-1, 2))


# ---------------------------------------------------------------- k-means

def _check_stop(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise FitCancelled()


def _seed_plus_plus(c: _Cols, k: int, rng: np.random.Generator) -> np.ndarray:
    """Greedy k-means++ seeding with distance 1 - IoU, as scikit-learn seeds.

    Each new seed is the best of a few D²-weighted candidates (the one that
    lowers the total squared distance most): plain k-means++ often drops two
    seeds into one tight cluster, which Lloyd's iterations never separate.
    """
    trials = 2 + int(np.log(k))
    first = rng.integers(len(c))
    centres = [np.array([c.w[first], c.h[first]], dtype=np.float32)]
    dist = 1.0 - _iou_kn(c, centres[0][None, :])[0]
    for _ in range(1, k):
        weights = dist.astype(np.float64) ** 2
        total = weights.sum()
        if total <= 0:
            idx = rng.integers(len(c), size=trials)
        else:
            idx = rng.choice(len(c), size=trials, p=weights / total)
        cand = np.stack([c.w[idx], c.h[idx]], axis=1)
        cand_dist = np.minimum(dist[None, :], 1.0 - _iou_kn(c, cand))
        pick = int(np.argmin((cand_dist.astype(np.float64) ** 2).sum(axis=1)))
        centres.append(cand[pick])
        dist = cand_dist[pick]
    return np.stack(centres)


def _reseed_empty(c: _Cols, centres: np.ndarray, counts: np.ndarray,
                  best_iou: np.ndarray) -> None:
    """Move each empty cluster's centre to the box the current anchors fit worst."""
    taken = {tuple(x) for x in centres.tolist()}
    pick = iter(np.argsort(best_iou))
    for j in np.flatnonzero(counts == 0):
        for i in pick:
            cand = (float(c.w[i]), float(c.h[i]))
            if cand not in taken:
                centres[j] = cand
                taken.add(cand)
                break


def _lloyd(c: _Cols, centres: np.ndarray, max_iter: int,
           stop: threading.Event | None, tol: float = 1e-3) -> np.ndarray:
    """Assign boxes to the anchor of highest IoU and move anchors to their clusters' medians.

    Medians, as keras-yolo3 uses, fit IoU better than means: one huge box
    drags a mean far from the many boxes it should cover. Stops when at most
    ``tol`` of the boxes change cluster (the last few hopping between two
    neighbours move the anchors by a hair).
    """
    centres = centres.astype(np.float32).copy()
    k = len(centres)
    assign = None
    for _ in range(max_iter):
        _check_stop(stop)
        new_assign, best_iou = _best(c, centres)
        if assign is not None and np.count_nonzero(new_assign != assign) <= tol * len(c):
            break
        assign = new_assign
        counts = np.bincount(assign, minlength=k)
        _update_medians(c, assign, counts, centres)
        if not counts.all():
            _reseed_empty(c, centres, counts, best_iou)
    return centres


def _update_medians(c: _Cols, assign: np.ndarray, counts: np.ndarray, centres: np.ndarray) -> None:
    """Set each non-empty cluster's centre to its members' median width and height.

    One stable sort by cluster makes every cluster a contiguous slice, and
    np.partition finds the middle: twice as fast as np.median over masks.
    """
    order = np.argsort(assign, kind="stable")
    ends = np.cumsum(counts)
    for col, values in enumerate((c.w[order], c.h[order])):
        for j in np.flatnonzero(counts):
            part = values[ends[j] - counts[j]:ends[j]]
            mid = len(part) // 2
            if len(part) % 2:
                centres[j, col] = np.partition(part, mid)[mid]
            else:
                low, high = np.partition(part, (mid - 1, mid))[mid - 1:mid + 1]
                centres[j, col] = (float(low) + float(high)) / 2


def _best_without_each(iou: np.ndarray) -> np.ndarray:
    """Row j: each box's best IoU if anchor j were removed (from the best and runner-up)."""
    first = iou.max(axis=0)
    if len(iou) == 1:
        return np.zeros_like(iou)
    index = _argmax_rows(iou)
    masked = iou.copy()
    masked[index, np.arange(iou.shape[1])] = -1.0
    second = masked.max(axis=0)
    return np.where(index[None, :] == np.arange(len(iou))[:, None], second[None, :], first[None, :])


def _evolve(c: _Cols, anchors: np.ndarray, rng: np.random.Generator,
            steps: int, stop: threading.Event | None,
            progress: Progress | None) -> np.ndarray:
    """Genetic refinement: mutate one anchor at a time, keep a change only if the mean IoU rises.

    Like ultralytics' autoanchor evolution (multiplicative mutations, keep
    improvements), but one anchor per step: the fitness of a changed anchor
    then needs one row of IoUs and the others' best (cached, refreshed only
    when a change is kept), not a full box-by-anchor matrix, so the same time
    buys many more steps.
    """
    a = anchors.astype(np.float32).copy()
    k, n = len(a), len(c)
    iou = _iou_kn(c, a)
    without = _best_without_each(iou)
    total = float(iou.max(axis=0).sum(dtype=np.float64))
    row, tmp = np.empty(n, dtype=np.float32), np.empty(n, dtype=np.float32)
    for step in range(steps):
        if step % 64 == 0:
            _check_stop(stop)
            if progress:
                progress(0.6 + 0.35 * step / steps)
        j = step % k
        # Large jumps first to leave a poor basin, then fine steps to settle.
        sigma = 0.02 + 0.18 * (1.0 - step / steps) ** 2
        cand = (a[j] * np.exp(rng.standard_normal(2) * sigma)).astype(np.float32)
        _iou_row(c, cand, row, tmp)
        cand_total = float(np.maximum(without[j], row, out=tmp).sum(dtype=np.float64))
        if cand_total > total:
            a[j], total = cand, cand_total
            iou[j] = row
            without = _best_without_each(iou)
    return a


def _iou_row(c: _Cols, anchor: np.ndarray, out: np.ndarray, tmp: np.ndarray) -> None:
    """IoU of every box with one anchor into ``out``, reusing buffers (the genetic step's inner loop)."""
    aw, ah = np.float32(anchor[0]), np.float32(anchor[1])
    np.minimum(c.w, aw, out=out)
    np.minimum(c.h, ah, out=tmp)
    out *= tmp
    np.add(c.area, aw * ah, out=tmp)
    tmp -= out
    out /= tmp


def _subsample(c: _Cols, n: int, rng: np.random.Generator) -> _Cols:
    return c if len(c) <= n else c.take(rng.choice(len(c), n, replace=False))


def _count_distinct(wh: np.ndarray) -> int:
    """Number of distinct (w, h) rows; one 64-bit key per row sorts far faster than rows."""
    key = wh.view(np.uint32).astype(np.uint64)
    return len(np.unique((key[:, 0] << np.uint64(32)) | key[:, 1]))


def _validate_for_fit(wh, k: int) -> np.ndarray:
    """Usable boxes, or a ConfigError saying why anchors cannot be fitted."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ConfigError(f"number of anchors k must be a positive integer, got {k!r}")
    raw = np.asarray(wh, dtype=np.float32).reshape(-1, 2)
    clean = _clean(raw)
    if len(clean) == 0:
        what = (f"all {len(raw)} boxes have zero width or height" if len(raw)
                else "there are no labelled boxes")
        raise ConfigError(f"cannot fit anchors: {what}; label some boxes first")
    distinct = _count_distinct(clean)
    if distinct < k:
        raise ConfigError(f"cannot fit k={k} anchors to {distinct} distinct box size(s); "
                          f"lower k or label more boxes")
    return clean


def fit_anchors(wh, k: int, seed: int = 0, restarts: int = 8, genetic: bool = True,
                max_iter: int = 40, generations: int = 1000,
                stop: threading.Event | None = None,
                progress: Progress | None = None) -> np.ndarray:
    """Fit ``k`` anchors (k, 2) sorted by area; IoU k-means++ with restarts, then a genetic polish.

    Deterministic for a given ``seed``. ``stop`` is checked between iterations
    and restarts (raises :class:`FitCancelled`); ``progress`` gets 0..1.
    """
    cols = _Cols.of(_validate_for_fit(wh, k))
    rng = np.random.default_rng(seed)
    sample = _subsample(cols, SAMPLE_SIZE, rng)
    best, best_fit = None, -1.0
    for r in range(max(1, restarts)):
        _check_stop(stop)
        if progress:
            progress(0.5 * r / max(1, restarts))
        centres = _lloyd(sample, _seed_plus_plus(sample, k, rng), max_iter, stop)
        # Judge restarts on all boxes: their differences are as small as the sample's noise.
        fit = _fitness(cols, centres)
        if fit > best_fit:
            best, best_fit = centres, fit
    if len(sample) < len(cols):
        if progress:
            progress(0.5)
        # A short polish on all boxes; the genetic step does the fine settling.
        best = _better(cols, _lloyd(cols, best, POLISH_ITERATIONS, stop), best)
    if genetic and generations > 0:
        evolved = _evolve(_subsample(cols, GENETIC_SAMPLE_SIZE, rng), best, rng,
                          generations, stop, progress)
        best = _better(cols, evolved, best)
    if progress:
        progress(1.0)
    return sort_by_area(best)


def _better(c: _Cols, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whichever of two anchor sets has the higher mean IoU on all the boxes."""
    return a if _fitness(c, a) >= _fitness(c, b) else b


def sort_by_area(anchors) -> np.ndarray:
    """Anchors ordered by area, smallest first (ties by width)."""
    a = np.asarray(anchors, dtype=np.float64).reshape(-1, 2)
    return a[np.lexsort((a[:, 0], a[:, 0] * a[:, 1]))]


# ---------------------------------------------------------------- grouping

def flatten_anchors(per_scale) -> np.ndarray:
    """Per-scale anchors as one (k, 2) array."""
    return np.asarray([wh for group in per_scale for wh in group], dtype=np.float64).reshape(-1, 2)


def darknet_line(anchors) -> str:
    """Anchors as a darknet .cfg ``anchors =`` line (whole pixels, sorted by area)."""
    # An anchor under half a pixel (a box on an image whose size was misread) must
    # not become 0: darknet divides by anchor sizes.
    a = np.maximum(np.rint(sort_by_area(anchors)), 1).astype(int)
    return "anchors = " + ",  ".join(f"{w},{h}" for w, h in a)


# ---------------------------------------------------------------- metrics

def fit_metrics(wh, anchors, ratio_threshold: float = RATIO_THRESHOLD) -> FitMetrics:
    """Mean best IoU, best possible recall and anchors above threshold, for ``anchors`` on ``wh``."""
    wh = _clean(wh)
    a = np.asarray(anchors, dtype=np.float32).reshape(-1, 2)
    if len(wh) == 0:
        raise ConfigError("no boxes with a positive width and height to measure anchors on")
    if len(a) == 0 or not np.isfinite(a).all() or (a <= 0).any():
        raise ConfigError("anchors must be positive (width, height) pairs; check the project's anchors")
    if ratio_threshold <= 1:
        raise ConfigError(f"ratio threshold must be above 1, got {ratio_threshold}")
    cols = _Cols.of(wh)
    best_iou = _best(cols, a)[1]
    best_ratio = np.empty(len(wh), dtype=np.float32)
    above = np.empty(len(wh), dtype=np.float32)
    for s in range(0, len(wh), CHUNK):
        r = wh[None, s:s + CHUNK, :] / a[:, None, :]
        x = np.minimum(r, 1.0 / r).min(axis=2)   # (k, n): the worse of the two side ratios
        best_ratio[s:s + CHUNK] = x.max(axis=0)
        above[s:s + CHUNK] = (x > 1.0 / ratio_threshold).sum(axis=0)
    return FitMetrics(
        mean_iou=float(best_iou.mean(dtype=np.float64)),
        bpr=float((best_ratio > 1.0 / ratio_threshold).mean()),
        anchors_above=float(above.mean(dtype=np.float64)),
        iou_above_half=float((best_iou > 0.5).mean()),
        n_boxes=int(len(wh)),
        ratio_threshold=float(ratio_threshold),
    )


# ---------------------------------------------------------------- project side

CURRENT = "current"
DEFAULTS = "COCO defaults"
FITTED = "fitted"


def reference_anchors(project, model: str, input_size: int) -> dict[str, AnchorSet]:
    """The anchors a fit is compared with: the project's own (if it has a set for ``model``) and COCO's.

    The project's are scaled to ``input_size`` exactly as training scales
    them (``Project.model_anchors``).
    """
    fam = family(model)
    sets = {}
    own = [a for g in (project.anchors or []) for a in g]
    if len(own) == fam.n_anchors:
        sets[CURRENT] = project.model_anchors(model, input_size)
    sets[DEFAULTS] = fam.default_anchors
    return sets


def round_anchors(anchors, decimals: int = 1) -> np.ndarray:
    """Anchors rounded as they are stored in the project file, sorted by area."""
    return sort_by_area(np.round(np.asarray(anchors, dtype=np.float64), decimals))


def apply_to_project(project, anchors, model: str, input_size: int) -> AnchorSet:
    """Store fitted anchors (grouped for ``model``) and their input size in the project, and save it."""
    grouped = AnchorSet.grouped(round_anchors(anchors), model)
    size = check_input_size(input_size)
    before = project.anchors, project.anchors_size
    project.anchors, project.anchors_size = [list(g) for g in grouped], size
    try:
        project.save()
    except BaseException:
        # Keep memory and disk in agreement: training must not use anchors the file lacks.
        project.anchors, project.anchors_size = before
        raise
    return grouped
