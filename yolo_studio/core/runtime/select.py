"""Make a backend for a loaded Detector: convert (cached), check against TensorFlow, measure, pick.

``auto`` converts every available backend, keeps those whose rows match
TensorFlow's on a probe image (scores within 1e-3, boxes within 0.01 px +
1e-4 relative) and picks the fastest by median time over interleaved runs
(batch 1). Where the CPU does bfloat16 natively and the user's precision is
'auto' or 'bfloat16', OpenVINO bf16 is tried too, checked with its own score
tolerance (BF16_SCORE_TOL, measured: see the README) and IoU > 0.99 per box.
The choice is stored with the cache, keyed by the weights, the
converters' versions and the CPU, so later loads skip the measurement.
"""
from __future__ import annotations

import statistics
import threading
import time
from contextlib import contextmanager

import cv2
import numpy as np

from yolo_studio.core.boxes import iou_aligned
from yolo_studio.core.errors import ConfigError

from . import (BACKENDS, BF16, BF16_PRECISIONS, CHOICES, OPTIONAL, TENSORFLOW, available_backends,
               backend_module, is_bf16, offered_backends)
from .cache import RuntimeCache, content_key, cpu_name, source_files
from .nms import nms_batch
from .tf_runtime import TFRuntime, decoded_function

SCORE_TOL = 1e-3
BOX_ATOL_PX, BOX_RTOL = 1e-2, 1e-4
ROUNDS = 7
# bfloat16 keeps 8 mantissa bits (relative rounding ~4e-3 per op): on the trained test
# checkpoint and the demo images its scores differ from float32 TensorFlow's by at most
# a few 1e-3 (README, "Inference"), so 1e-2 passes bf16 and still fails a wrong model.
BF16_SCORE_TOL = 1e-2
BF16_BOX_IOU = 0.99
BF16_COUNT_SCORE = 0.25      # the NMS score threshold at which bf16 must keep TF's box count


class BackendError(ConfigError):
    """A backend that cannot be used for this model (missing, failed to convert, disagrees)."""


def probe_image(size: int, seed: int = 0) -> np.ndarray:
    """A (1, S, S, 3) uint8 photo-like batch (blurred noise) to compare and time backends on."""
    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur(rng.integers(0, 256, (size, size, 3), np.uint8), (0, 0), 3)
    return img[None]


def rows_match(ours: np.ndarray, ref: np.ndarray) -> tuple[bool, str]:
    """True when decoded rows agree: scores within SCORE_TOL, boxes of scoring rows close."""
    if ours.shape != ref.shape:
        return False, f"shape {ours.shape} vs {ref.shape}"
    s_ours, s_ref = ours[..., 4:5] * ours[..., 5:], ref[..., 4:5] * ref[..., 5:]
    score_err = float(np.abs(s_ours - s_ref).max())
    live = s_ref.max(axis=-1) > SCORE_TOL
    box_ok = np.allclose(ours[..., :4][live], ref[..., :4][live], rtol=BOX_RTOL, atol=BOX_ATOL_PX)
    return score_err < SCORE_TOL and box_ok, f"score error {score_err:.1e}"


def rows_match_bf16(ours: np.ndarray, ref: np.ndarray) -> tuple[bool, str]:
    """bf16 rows against float32 TF's: scores within BF16_SCORE_TOL, each scoring row's box IoU >
    0.99 (rows are aligned: one per anchor) and the same number of boxes after NMS."""
    if ours.shape != ref.shape:
        return False, f"shape {ours.shape} vs {ref.shape}"
    s_ours, s_ref = ours[..., 4:5] * ours[..., 5:], ref[..., 4:5] * ref[..., 5:]
    score_err = float(np.abs(s_ours - s_ref).max())
    live = s_ref.max(axis=-1) > BF16_SCORE_TOL
    min_iou = float(iou_aligned(ours[..., :4][live], ref[..., :4][live]).min(initial=1.0))
    counts = [int(nms_batch(rows, BF16_COUNT_SCORE, 0.45, 100)[3].sum()) for rows in (ours, ref)]
    ok = score_err < BF16_SCORE_TOL and min_iou > BF16_BOX_IOU and counts[0] == counts[1]
    return ok, f"bf16: score error {score_err:.1e}, min IoU {min_iou:.4f}, boxes {counts[0]}/{counts[1]}"


def _key_parts(detector, name: str) -> tuple:
    module = backend_module(name)
    converted_as = getattr(module, "CONVERTED_AS", name)     # bf16 reuses the float32 conversion
    return (detector.input_size, converted_as, module.version())


def make_runtime(detector, name: str, on_message=None):
    """A converted runtime for ``detector``'s model (from the cache when there), not yet checked."""
    say = on_message or (lambda _m: None)
    if detector.model is None:
        raise BackendError(f"{detector.source or 'this model'}: only TensorFlow runs it "
                           f"(a SavedModel or bfloat16 model is not converted)")
    try:
        module = backend_module(name)
        folder, files = source_files(detector.source, detector.cfg)
        cache = RuntimeCache(folder, content_key(files, *_key_parts(detector, name)) if files
                             else "memory")
        path = cache.lookup(module.SUFFIXES) if files else None
        if path is not None:
            return module.RUNTIME(path, note="cached")
        say(f"converting the model for {name} (once; cached beside the weights)...")
        t0 = time.perf_counter()
        fn = decoded_function(detector.model, detector.spec, detector.input_size)
        path, cached = cache.store(module.SUFFIXES, lambda p: module.convert(fn, p))
        note = f"converted in {time.perf_counter() - t0:.0f} s" + ("" if cached else f"; {cache.message}")
        try:
            return module.RUNTIME(path, note=note)
        finally:
            if not cached:          # a temporary folder: the runtime has read what it needs
                cache.discard(path)
    except ImportError as e:
        raise BackendError(f"backend '{name}' is not installed here ({e}); "
                           f"available: {', '.join(available_backends())}") from e
    except BackendError:
        raise
    except Exception as e:  # converters raise many kinds for an op they cannot map
        raise BackendError(f"backend '{name}' could not run this model ({type(e).__name__}: {e})") from e


def check_runtime(runtime, reference: TFRuntime, size: int) -> tuple[bool, str]:
    """Does ``runtime`` give TensorFlow's rows on the probe image?"""
    probe = probe_image(size)
    match = rows_match_bf16 if is_bf16(runtime.name) else rows_match
    return match(runtime.decoded(probe), reference.decoded(probe))


def measure(runtimes: dict, size: int, rounds: int = ROUNDS) -> dict[str, float]:
    """Median ms per batch-1 detect of each runtime, run interleaved (a busy CPU slows all alike)."""
    probe = probe_image(size, seed=1)
    for rt in runtimes.values():
        rt.detect(probe, 0.25, 0.45, 100)                    # warm: allocations, lazy compiles
    times = {name: [] for name in runtimes}
    for _ in range(rounds):
        for name, rt in runtimes.items():
            t0 = time.perf_counter()
            rt.detect(probe, 0.25, 0.45, 100)
            times[name].append((time.perf_counter() - t0) * 1000.0)
    return {name: statistics.median(v) for name, v in times.items()}


def choose(detector, backend: str = "auto", on_message=None):
    """(runtime, one-line reason) for ``backend`` on this detector; BackendError if it cannot run."""
    if backend not in CHOICES:
        raise ConfigError(f"backend '{backend}' is unknown; choose one of {', '.join(CHOICES)}")
    reference = detector.tf_runtime
    if backend == TENSORFLOW or (backend == "auto" and detector.model is None):
        return reference, "TensorFlow"
    if backend != "auto":
        _check_bf16_allowed(detector, backend)
        rt = make_runtime(detector, backend, on_message)
        ok, detail = check_runtime(rt, reference, detector.input_size)
        if not ok:
            raise BackendError(f"backend '{backend}' does not give TensorFlow's boxes on this model "
                               f"({detail}); use --backend tensorflow")
        return rt, f"{backend} ({rt.note or 'ready'}; matches TensorFlow, {detail})"
    return _choose_auto(detector, reference, on_message)


def _check_bf16_allowed(detector, backend: str) -> None:
    """BackendError for a bf16 backend the user's precision or this CPU rules out."""
    if backend not in BF16:
        return
    precision = getattr(detector, "precision", "float32")
    if precision not in BF16_PRECISIONS:
        raise BackendError(f"backend '{backend}' rounds to bfloat16 but precision '{precision}' was "
                           f"chosen; use --precision auto or bfloat16, or another backend")
    if backend not in available_backends():
        raise BackendError(f"backend '{backend}' needs openvino and a CPU with native bf16 (AVX-512-BF16 "
                           f"or AMX); available here: {', '.join(available_backends())}")


def _choose_auto(detector, reference, on_message):
    say = on_message or (lambda _m: None)
    offered = offered_backends(getattr(detector, "precision", "float32"))
    names = [n for n in OPTIONAL + BF16 if n in offered]
    if not names:
        return reference, "TensorFlow (onnxruntime and openvino are not installed)"
    folder, files = source_files(detector.source, detector.cfg)
    if not files:       # an in-memory model (a trainer's): its weights may change under a snapshot
        return reference, "TensorFlow (a model not loaded from files is not converted)"
    parts = [cpu_name(), detector.input_size] + [p for n in names for p in _key_parts(detector, n)]
    cache = RuntimeCache(folder, content_key(files, *parts))
    stored = cache.read_choice()
    runtimes, notes = {TENSORFLOW: reference}, {}
    for name in names:
        if stored is not None and name != stored.get("choice"):
            continue                           # measured before: open only the winner
        try:
            rt = make_runtime(detector, name, on_message)
            ok, detail = check_runtime(rt, reference, detector.input_size)
        except BackendError as e:
            notes[name] = str(e)
            continue
        if ok:
            runtimes[name] = rt
        else:
            notes[name] = f"does not match TensorFlow ({detail})"
    if stored is not None and stored.get("choice") in runtimes:
        reason = stored.get("reason", stored["choice"]) + " (measured earlier)"
        say(f"backend: {reason}")
        return runtimes[stored["choice"]], reason
    ms = measure(runtimes, detector.input_size)
    best = min(ms, key=ms.get)
    ranked = ", ".join(f"{n} {v:.0f} ms" for n, v in sorted(ms.items(), key=lambda kv: kv[1]))
    reason = (f"{best}: fastest of {ranked} (batch 1, measured here)"
              + "".join(f"; {n} {t}" for n, t in notes.items()))
    cache.write_choice({"choice": best, "ms": ms, "reason": reason, "cpu": cpu_name()})
    say(f"backend: {reason}")
    return runtimes[best], reason


def _switch(detector, backend: str, say) -> None:
    try:
        detector.use_backend(backend, say)
    except Exception as e:  # noqa: BLE001 - a failed conversion leaves TensorFlow running
        say(f"staying on TensorFlow: {e}")


@contextmanager
def faster_backend(detector, backend: str = "auto", on_message=None):
    """Run the block on ``backend``: 'auto' starts on TensorFlow and switches when ready.

    The conversion (first time only; cached) runs in a thread while the block
    detects; leaving the block waits for it so the cache is complete. An
    explicit backend is made before the block (its errors reach the caller).
    """
    say = on_message or (lambda _m: None)
    if backend == TENSORFLOW:
        yield detector
        return
    if backend != "auto":
        detector.use_backend(backend, say)
        yield detector
        return
    thread = threading.Thread(target=_switch, args=(detector, backend, say), name="backend")
    thread.start()
    try:
        yield detector
    finally:
        if thread.is_alive():
            say("finishing the backend conversion (once; cached beside the weights for next time)...")
        thread.join()


__all__ = ["BACKENDS", "BackendError", "choose", "faster_backend", "make_runtime", "measure",
           "rows_match"]
