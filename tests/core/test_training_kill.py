"""Fault injection: SIGKILL a training process at random points, resume each time.

After every kill the run must be resumable, results.csv must hold epochs
0..n-1 with no gap or duplicate, and weights/last must be a whole checkpoint.
Kill times are drawn over whole epoch cycles (steps, validation, the writes
of weights, results.csv and resume state), so some land inside the writes.
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from yolo_studio.core.checkpoint_files import is_checkpoint
from yolo_studio.cli import main
from yolo_studio.core.project import Project
from yolo_studio.core.training import runs

KILLS = 6
FAST = ["--model", "yolov3-tiny", "--size", "64", "--batch", "4", "--lr", "1e-3", "--warmup", "0.5",
        "--no-augment"]
EPOCHS = 60          # more than the kills can reach: every process is killed, none finishes


@pytest.fixture
def small_project(tmp_path):
    from yolo_studio.core.demo import generate_demo_project

    root = tmp_path / "demo"
    generate_demo_project(root, n_images=12, seed=5, min_size=64, max_size=80)
    return root


def _start(args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.Popen([sys.executable, "-m", "yolo_studio", "train", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for(proc, marker, out, count=1, limit=300):
    """Read lines until ``count`` lines hold ``marker``; returns their arrival times."""
    seen = []
    deadline = time.monotonic() + limit
    for line in proc.stdout:
        out.append(line)
        if marker in line:
            seen.append(time.monotonic())
            if len(seen) == count:
                return seen
        if time.monotonic() > deadline:
            break
    proc.kill()
    pytest.fail("training never printed " + repr(marker) + ":\n" + "".join(out[-40:]))


def _kill(proc):
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    proc.stdout.close()


def _check_whole(root):
    """The state every kill must leave: resumable, contiguous history, whole weights."""
    import h5py

    run_dir = runs.latest_resumable(Project.open(root))
    assert run_dir is not None, "the kill left no resumable run"
    epochs = [r["epoch"] for r in runs.read_history(run_dir)]
    assert epochs == list(range(len(epochs))), f"results.csv epochs {epochs}"
    stem = runs.run_checkpoint(run_dir, "last")
    assert is_checkpoint(stem)
    with h5py.File(f"{stem}.weights.h5", "r") as f:   # a truncated file does not open
        assert len(f.keys()) > 0
    json.loads(stem.with_name("last.json").read_text())
    return run_dir, len(epochs)


def test_sigkill_at_random_points_always_leaves_a_resumable_run(small_project):
    rng = random.Random(int(os.environ.get("KILL_SEED", "12")))
    root = str(small_project)
    out: list[str] = []
    proc = _start([root, "--epochs", str(EPOCHS), *FAST])
    t1, t2 = _wait_for(proc, f"/{EPOCHS}: train loss", out, count=2)
    cycle = t2 - t1                       # one epoch: steps, validation and every write
    _kill(proc)
    run_dir, done = _check_whole(root)
    for k in range(KILLS - 1):
        proc = _start([root, "--resume", *FAST])     # no --epochs: the run keeps its 60
        _wait_for(proc, "resuming", out)
        time.sleep(rng.uniform(0.0, 2.0 * cycle))
        _kill(proc)
        same, done = _check_whole(root)
        assert same == run_dir
    leftovers = [p.name for p in (run_dir / "weights").iterdir() if p.name.startswith(".")]
    # the last resume finishes one epoch past the history it found
    assert main(["train", root, "--resume", "--epochs", str(done + 1), *FAST]) == 0
    from yolo_studio.core.model import load_checkpoint

    _, spec = load_checkpoint(runs.run_checkpoint(run_dir, "last"))
    assert spec.extra["epoch"] == done + 1
    assert [r["epoch"] for r in runs.read_history(run_dir)] == list(range(done + 1))
    # temp files of writes a kill cut short are cleaned up when the run resumes
    assert not [p for p in (run_dir / "weights").iterdir() if p.name.startswith(".")], leftovers
