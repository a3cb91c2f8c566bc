"""MirroredStrategy on two logical CPU devices (in a subprocess: devices are fixed at TF start)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np

from yolo_studio.core.training.distribute import tf_config_workers

SCRIPT = textwrap.dedent("""
    import json, sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

    import keras
    import numpy as np
    from yolo_studio.core.demo import generate_demo_project
    from yolo_studio.core.model import build_model
    from yolo_studio.core.project import Project
    from yolo_studio.core.training import setup
    from yolo_studio.core.training.distribute import choose_strategy
    from yolo_studio.core.training.events import TrainConfig
    from yolo_studio.core.training.pipeline import DataSource, load_samples
    from yolo_studio.core.training.steps import make_train_step
    from yolo_studio.core.training.trainer import Trainer

    root = sys.argv[1]
    generate_demo_project(root, n_images=14, seed=3, min_size=64, max_size=96)
    project = Project.open(root)
    mirrored = choose_strategy(["/cpu:0", "/cpu:1"])
    out = {"strategy": type(mirrored).__name__, "replicas": mirrored.num_replicas_in_sync}

    anchors = project.model_anchors("yolov3-tiny", 64)
    samples, _ = load_samples(project, project.image_paths(), project.classes)
    src = DataSource(samples, len(project.classes), 64, anchors, [16, 32])
    ds = src.dataset(0, 4, train=True).take(1)
    images, targets, truth, _ = next(iter(ds))

    def one_step(strategy, batch):
        keras.utils.set_random_seed(0)
        with strategy.scope():
            model = build_model("yolov3-tiny", len(project.classes), 64)
            # Batch norm trains: the trainer synchronises its statistics over replicas.
            if strategy.num_replicas_in_sync > 1:
                setup.synchronize_batchnorm(model)
            opt = keras.optimizers.SGD(0.01)
            step = make_train_step(strategy, model, opt, model.trainable_variables,
                                   anchors, [16, 32], 4)
        init = [np.asarray(w) for w in model.get_weights()]
        parts = step(*batch).numpy().tolist()
        return parts, [np.asarray(w) - w0 for w, w0 in zip(model.get_weights(), init)]

    single, w1 = one_step(tf.distribute.get_strategy(), (images, targets, truth))
    dist_batch = next(iter(mirrored.experimental_distribute_dataset(ds)))
    split, w2 = one_step(mirrored, dist_batch[:3])
    out["single"], out["mirrored"] = single, split
    # How far each tensor's update differs, relative to the update itself.
    out["update_diff"] = [float(np.linalg.norm(a - b) / max(np.linalg.norm(a), 1e-12))
                          for a, b in zip(w1, w2) if np.any(a)]

    setup.choose_strategy = lambda: mirrored
    messages = []
    class Listener:
        def on_message(self, t): messages.append(t)
        def on_batch(self, r): pass
        def on_epoch(self, r): pass
        def on_end(self, r): pass
    trainer = Trainer(project, TrainConfig(input_size=64, batch_size=4, epochs=1, augment=False),
                      Listener())
    end = trainer.run()
    out["reason"], out["messages"] = end.reason, messages
    # Every replica's copy of the moving statistics is the same (unsynchronised,
    # each replica wrote its own half-batch statistics into its copy).
    out["bn_copy_diff"] = max(
        float(np.max(np.abs(v.value.values[0].numpy() - v.value.values[1].numpy())))
        for v in trainer.model.non_trainable_variables if "moving" in v.path)
    print("RESULT" + json.dumps(out))
""")


def test_mirrored_strategy_on_two_logical_cpus_matches_one_device(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    env.pop("TF_CONFIG", None)
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "demo")], env=env,
                          capture_output=True, text=True, timeout=900)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")]
    assert lines, proc.stderr[-3000:]
    out = json.loads(lines[-1][len("RESULT"):])
    assert out["strategy"] == "MirroredStrategy" and out["replicas"] == 2
    # Each replica sees half the batch; the reduced losses and the update match one device.
    for a, b in zip(out["single"], out["mirrored"]):
        assert abs(a - b) <= 1e-3 * max(1.0, abs(a))
    # The update matches one device's to 1e-4 in most tensors. The first two
    # convolutions (64x64 and 32x32 maps) differ by up to a few percent of their
    # small update: a batch-normalised layer's kernel gradient is the small
    # difference of sums over every pixel, and the replicas round those sums
    # differently (partial sums, all-reduced E[x^2] - E[x]^2); a plain
    # two-layer model with synchronised batch norm matches to 1e-6.
    assert np.median(out["update_diff"]) < 1e-3
    assert max(out["update_diff"]) < 0.1
    assert out["bn_copy_diff"] == 0.0
    assert out["reason"] == "finished"
    assert any("MirroredStrategy with 2 replicas" in m for m in out["messages"])


def test_tf_config_worker_count(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert tf_config_workers() == 0
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1", "b:2"]},
                                                "task": {"type": "worker", "index": 0}}))
    assert tf_config_workers() == 2
    monkeypatch.setenv("TF_CONFIG", "not json")
    assert tf_config_workers() == 0
