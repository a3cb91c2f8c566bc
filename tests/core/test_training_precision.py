"""Training precision: 'auto' per hardware, old `mixed_precision` files, float16 with loss scaling."""
from __future__ import annotations

import argparse
import json
from types import SimpleNamespace

import keras
import numpy as np
import pytest

from yolo_studio.commands import train as train_cmd
from yolo_studio.core.errors import ConfigError
from yolo_studio.core.project import Project
from yolo_studio.core.training import device
from yolo_studio.core.training.events import TrainConfig
from yolo_studio.core.training.trainer import Trainer

FAST = dict(model="yolov3-tiny", input_size=64, batch_size=6, lr_init=1e-3, warmup_epochs=0.5,
            augment=False)


@pytest.fixture
def cpuinfo(tmp_path, monkeypatch):
    """Point the CPU feature check at a file of our choosing; returns a writer."""
    path = tmp_path / "cpuinfo"
    monkeypatch.setattr(device, "CPUINFO", str(path))

    def write(flags: str) -> None:
        path.write_text(f"processor\t: 0\nflags\t\t: fpu sse2 avx2 {flags}\n")
    return write


def test_auto_is_float16_on_a_gpu_bfloat16_on_a_bf16_cpu_else_float32(cpuinfo):
    cpuinfo("avx512f")
    assert device.training_precision("auto", gpu=True) == "float16"
    assert device.training_precision("auto", gpu=False) == "float32"
    cpuinfo("avx512f avx512_bf16")
    assert device.training_precision("auto", gpu=False) == "bfloat16"
    cpuinfo("amx_tile amx_bf16")
    assert device.training_precision("auto", gpu=False) == "bfloat16"
    assert device.training_precision("float32", gpu=True) == "float32"
    with pytest.raises(ConfigError, match="precision 'half'"):
        device.training_precision("half")


def test_old_mixed_precision_settings_keep_their_meaning(monkeypatch):
    assert TrainConfig().precision == "auto"
    assert TrainConfig.from_dict({}).precision == "auto"
    # False meant float32; True meant bfloat16 on a CPU and float16 on a GPU.
    assert TrainConfig.from_dict({"mixed_precision": False}).precision == "float32"
    monkeypatch.setattr(device, "has_gpu", lambda: False)
    assert TrainConfig.from_dict({"mixed_precision": True}).precision == "bfloat16"
    monkeypatch.setattr(device, "has_gpu", lambda: True)
    assert TrainConfig.from_dict({"mixed_precision": True}).precision == "float16"
    # A file with both (written by a newer version) trusts the new key.
    assert TrainConfig.from_dict({"mixed_precision": True, "precision": "float32"}).precision == "float32"
    saved = TrainConfig(precision="bfloat16").to_dict()
    assert saved["precision"] == "bfloat16" and "mixed_precision" not in saved


def _args(*argv):
    p = argparse.ArgumentParser()
    train_cmd.add_parser(p.add_subparsers(), "train")
    return p.parse_args(["train", "proj", *argv])


def test_cli_precision_flag_alias_and_old_project_settings(monkeypatch):
    monkeypatch.setattr(device, "has_gpu", lambda: False)
    old = SimpleNamespace(train_settings={"mixed_precision": True, "epochs": 3}, project_file="yolo_studio.json")
    assert train_cmd.build_config(_args(), old).precision == "bfloat16"
    assert train_cmd.build_config(_args(), SimpleNamespace(train_settings={}, project_file="yolo_studio.json")).precision == "auto"
    assert train_cmd.build_config(_args("--precision", "float16"), old).precision == "float16"
    assert train_cmd.build_config(_args("--mixed-precision"),
                                  SimpleNamespace(train_settings={}, project_file="yolo_studio.json")).precision == "bfloat16"
    with pytest.raises(SystemExit):
        _args("--precision", "half")


def test_bfloat16_run_is_scoped_and_named_in_log_and_config(demo_copy):
    before = keras.config.dtype_policy().name
    messages = []
    listener = SimpleNamespace(on_message=messages.append, on_batch=lambda r: None,
                               on_epoch=lambda r: None, on_end=lambda r: None)
    trainer = Trainer(Project.open(demo_copy), TrainConfig(epochs=1, precision="bfloat16", **FAST),
                      listener)
    trainer.prepare()
    assert keras.config.dtype_policy().name == before == "float32"
    assert "mixed_bfloat16" in {layer.dtype_policy.name for layer in trainer.model.layers
                                if layer.weights}
    assert any(m.startswith("precision: mixed bfloat16") for m in messages)
    config = json.loads((trainer.run_dir / "config.json").read_text())
    assert config["precision"] == "bfloat16" and config["precision_used"] == "bfloat16"


def test_float16_trains_with_loss_scaling_on_cpu(demo_copy):
    """The GPU path (float16 + LossScaleOptimizer), forced on a CPU: it runs and learns."""
    import tensorflow as tf

    trainer = Trainer(Project.open(demo_copy), TrainConfig(epochs=1, precision="float16", **FAST))
    trainer.prepare()
    opt = trainer.optimizer
    assert isinstance(opt, keras.optimizers.LossScaleOptimizer)
    conv = next(layer for layer in trainer.model.layers if isinstance(layer, keras.layers.Conv2D))
    assert conv.compute_dtype == "float16" and conv.kernel.dtype == "float32"
    # The step multiplies the loss by the dynamic scale before the gradients...
    scale = float(opt.dynamic_scale.numpy())
    assert scale > 1 and float(opt.scale_loss(tf.constant(2.0))) == 2.0 * scale
    before = [w.numpy() for w in trainer.model.trainable_weights]
    end = trainer.run()
    assert end.reason == "finished", end.message
    # ...and every step was applied (or skipped on an overflow, halving the scale):
    # finite losses, weights that moved, a scale that stayed usable.
    from yolo_studio.core.training import runs
    row = runs.read_history(trainer.run_dir)[0]
    assert all(np.isfinite(row[k]) for k in ("train/loss", "val/loss"))
    moved = max(float(np.max(np.abs(w.numpy() - b)))
                for w, b in zip(trainer.model.trainable_weights, before))
    assert moved > 0
    applied = int(opt.inner_optimizer.iterations.numpy())
    halvings = round(np.log2(scale / float(opt.dynamic_scale.numpy())))
    assert applied >= 1 and applied + halvings == trainer.step, (applied, halvings, trainer.step)
