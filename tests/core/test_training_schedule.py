"""Learning-rate schedule, run folders and device listing."""
from __future__ import annotations

import pytest

from yolo_studio.core.training import runs
from yolo_studio.core.training.device import describe_devices, dtype_policy
from yolo_studio.core.training.schedule import WarmupCosine, warmup_cosine


def test_warmup_then_cosine_from_lr_init_to_lr_end():
    lrs = [warmup_cosine(s, 10, 100, 1e-4, 1e-6) for s in range(1, 101)]
    assert lrs[0] == pytest.approx(1e-5)                   # 1/10 of the way up
    assert max(lrs) == pytest.approx(1e-4) and lrs.index(max(lrs)) == 9
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:]))  # then only down
    assert lrs[-1] == pytest.approx(1e-6)
    assert lrs[54] == pytest.approx((1e-4 + 1e-6) / 2, rel=1e-6)   # half way: the mean


def test_keras_schedule_matches_the_reported_rate():
    sched = WarmupCosine(10, 100, 1e-4, 1e-6)
    for step in (1, 5, 10, 11, 50, 100):
        # the optimizer passes its iteration count before the step (0-based)
        assert float(sched(step - 1)) == pytest.approx(warmup_cosine(step, 10, 100, 1e-4, 1e-6),
                                                       rel=1e-5)


def test_history_append_truncate_and_read(tmp_path):
    for epoch in range(3):
        runs.append_history(tmp_path, {"epoch": epoch, "train/loss": 3.0 - epoch,
                                       "metrics/mAP50": None if epoch == 0 else 0.1 * epoch})
    rows = runs.read_history(tmp_path)
    assert [r["epoch"] for r in rows] == [0, 1, 2]
    assert rows[0]["metrics/mAP50"] is None and rows[2]["metrics/mAP50"] == pytest.approx(0.2)
    runs.truncate_history(tmp_path, 2)      # a resume from the end of epoch 2 drops later rows
    assert [r["epoch"] for r in runs.read_history(tmp_path)] == [0, 1]
    assert runs.read_history(tmp_path / "nowhere") == []


def test_devices_always_include_the_cpu_and_policy_is_restored():
    import keras

    devices = describe_devices()
    assert devices[-1].kind == "CPU" and devices[-1].memory_mb
    before = keras.config.dtype_policy().name
    with pytest.raises(RuntimeError):
        with dtype_policy("mixed_bfloat16"):
            assert keras.config.dtype_policy().name == "mixed_bfloat16"
            raise RuntimeError("model building failed")
    assert keras.config.dtype_policy().name == before
