"""The training recipe: initialisation from priors, batch-norm momentum, weight EMA, lr scaling, flip."""
from __future__ import annotations

import threading

import keras
import numpy as np
import pytest

from yolo_studio.core.errors import ConfigError
from yolo_studio.core.model import build_model, decode_predictions, output_layers
from yolo_studio.core.project import Project
from yolo_studio.core.training import augment as aug
from yolo_studio.core.training.events import TrainConfig
from yolo_studio.core.training.init_weights import (init_conv_kernels, init_output_biases,
                                                    set_batchnorm_momentum)
from yolo_studio.core.training.preflight import check_config
from yolo_studio.core.training.schedule import scaled_rates
from yolo_studio.core.training.trainer import Trainer

TINY_ANCHORS = [[(10, 14), (23, 27), (37, 58)], [(81, 82), (135, 169), (344, 319)]]


def _untrained_scores(scheme: str, prior: bool, classes: int = 10, size: int = 128):
    keras.utils.set_random_seed(0)
    model = build_model("yolov3-tiny", classes, size)
    init_conv_kernels(model, scheme, seed=0)
    if prior:
        init_output_biases(model, classes, size, [16, 32], 3, objects_per_image=4)
    image = np.random.default_rng(0).uniform(0, 1, (2, size, size, 3)).astype("float32")
    decoded = decode_predictions(model(image, training=False), TINY_ANCHORS, classes, [16, 32])
    return model, np.asarray(decoded[..., 4]), np.asarray(decoded[..., 5:])


def test_prior_biases_make_an_untrained_model_predict_the_base_rates():
    _, obj, cls = _untrained_scores("normal", prior=True)
    # 4 objects among a stride-16 scale's 64 cells and a stride-32 scale's 16 cells
    cells16, cells32 = 64 * 3, 16 * 3
    np.testing.assert_allclose(obj[:, :cells16].mean(), 4 / 64, rtol=0.05)
    np.testing.assert_allclose(obj[:, cells16:cells16 + cells32].mean(), 4 / 16, rtol=0.05)
    np.testing.assert_allclose(cls.mean(), 1 / 10, rtol=0.05)
    # Without the prior every cell starts at sigmoid(0) = 0.5: "an object here", 240 times over.
    _, obj0, _ = _untrained_scores("normal", prior=False)
    np.testing.assert_allclose(obj0.mean(), 0.5, atol=0.02)


def test_normal_init_draws_small_kernels_and_keras_init_keeps_glorot():
    model, _, _ = _untrained_scores("normal", prior=False)
    conv = model.get_layer("head_conv_08")
    assert np.asarray(conv.kernel).std() == pytest.approx(0.01, rel=0.05)
    glorot, _, _ = _untrained_scores("keras", prior=False)
    assert np.asarray(glorot.get_layer("head_conv_08").kernel).std() > 0.015
    # the untrained heads stay near their biases with the small init
    assert np.abs(np.asarray(output_layers(model)[0].kernel)).max() < 0.1
    with pytest.raises(ConfigError, match="conv init 'he'"):
        init_conv_kernels(model, "he", 0)


def test_batchnorm_momentum_fixed_or_fitted_to_the_epoch():
    model = build_model("yolov3-tiny", 2, 64)
    bns = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert set_batchnorm_momentum(model, 0.99, 10) == 0.99
    assert {b.momentum for b in bns} == {0.99}
    assert set_batchnorm_momentum(model, 0.0, 10) == pytest.approx(0.9)     # 10 steps an epoch
    assert set_batchnorm_momentum(model, 0.0, 100) == pytest.approx(0.97)
    assert all(b.momentum == pytest.approx(0.97) for b in bns)


def test_learning_rate_follows_the_batch_only_with_a_reference_batch():
    cfg = TrainConfig(batch_size=4, lr_init=1e-3, lr_end=1e-5)
    assert scaled_rates(cfg) == (1e-3, 1e-5)
    lr, end = scaled_rates(TrainConfig(batch_size=4, lr_init=1e-3, lr_end=1e-5, lr_reference_batch=8))
    assert lr == pytest.approx(5e-4) and end == pytest.approx(5e-6)


def test_flip_off_never_mirrors_and_leaves_the_other_augmentations_alone():
    image = np.zeros((40, 60, 3), np.uint8)
    image[5:15, 5:12] = 255
    boxes = np.array([[5.0, 5.0, 12.0, 15.0]])
    for seed in range(20):
        with_flip = aug.augment(image, boxes, np.random.default_rng(seed), hflip=True)[1]
        without = aug.augment(image, boxes, np.random.default_rng(seed), hflip=False)[1]
        if np.random.default_rng(seed).random() >= 0.5:       # the coin said "no flip"
            np.testing.assert_allclose(with_flip, without)
        assert without[0, 0] < 30     # the box stays on the left half: never mirrored


@pytest.mark.parametrize("field,value,needle", [("assignment", "all", "assignment 'all'"),
                                                ("conv_init", "he", "conv_init 'he'"),
                                                ("label_smoothing", 1.5, "label_smoothing"),
                                                ("ema_decay", -0.1, "ema_decay"),
                                                ("lr_reference_batch", -8, "lr_reference_batch")])
def test_bad_recipe_settings_fail_before_training_naming_the_setting(field, value, needle):
    with pytest.raises(ConfigError, match=needle):
        check_config(TrainConfig(**{field: value}))


# --- EMA: evaluated and checkpointed, training weights restored ------------------------

FAST = dict(model="yolov3-tiny", input_size=64, batch_size=6, lr_init=1e-3, warmup_epochs=0.5,
            augment=False, ema_decay=0.9)


@pytest.fixture(scope="module")
def ema_root(tmp_path_factory):
    from yolo_studio.core.demo import generate_demo_project

    root = tmp_path_factory.mktemp("ema") / "demo"
    generate_demo_project(root, n_images=24, seed=1, min_size=64, max_size=128)
    return root


def test_ema_weights_are_evaluated_and_saved_and_training_weights_come_back(ema_root, monkeypatch):
    from yolo_studio.core.model import load_checkpoint
    from yolo_studio.core.training import validation

    seen = []
    real_validate = validation.validate

    def spying_validate(*args, **kwargs):
        seen.append([w.numpy().copy() for w in trainer.model.weights])
        return real_validate(*args, **kwargs)

    monkeypatch.setattr(validation, "validate", spying_validate)
    trainer = Trainer(Project.open(ema_root), TrainConfig(epochs=1, **FAST))
    end = trainer.run(threading.Event())
    assert end.reason == "finished" and len(seen) == 1

    raw = [w.numpy() for w in trainer.model.weights]
    shadow = [s.numpy() for s in trainer.ema.shadow]
    differs = [not np.allclose(a, b) for a, b in zip(raw, shadow)]
    assert sum(differs) > len(raw) // 2          # the average really is another set of weights
    for a, b in zip(seen[0], shadow):            # validation ran on the average...
        np.testing.assert_array_equal(a, b)
    saved, _ = load_checkpoint(end.last_checkpoint)
    for a, b in zip(saved.get_weights(), shadow):   # ...the checkpoint holds it...
        np.testing.assert_array_equal(a, b)
    for w, r in zip(trainer.model.weights, raw):  # ...and training goes on from its own weights
        np.testing.assert_array_equal(w.numpy(), r)

    # Resuming restores both: the raw weights to train on and the average.
    again = Trainer(Project.open(ema_root), TrainConfig(epochs=2, **FAST), run_dir=end.run_dir,
                    resume=True)
    again.prepare()
    for w, r in zip(again.model.weights, raw):
        np.testing.assert_array_equal(w.numpy(), r)
    for s, r in zip(again.ema.shadow, shadow):
        np.testing.assert_array_equal(s.numpy(), r)


def test_a_run_started_without_ema_resumes_without_it(ema_root, tmp_path):
    import shutil

    root = tmp_path / "p"
    shutil.copytree(ema_root, root, ignore=shutil.ignore_patterns("runs"))
    old = dict(FAST, ema_decay=0.0)
    first = Trainer(Project.open(root), TrainConfig(epochs=1, **old)).run(threading.Event())
    # a config file from before the recipe fields existed: no ema_decay key at all
    import json
    cfg_file = root / "runs" / first.run_dir.rsplit("/", 1)[-1] / "config.json"
    stored = json.loads(cfg_file.read_text())
    del stored["ema_decay"]
    cfg_file.write_text(json.dumps(stored))
    messages = []

    class Listener:
        on_batch = on_epoch = on_end = staticmethod(lambda r: None)

        def on_message(self, text):
            messages.append(text)

    again = Trainer(Project.open(root), TrainConfig(epochs=2, **FAST), Listener(), resume=True)
    end = again.run(threading.Event())
    assert end.reason == "finished" and again.ema is None
    assert any("without a weight average" in m for m in messages)


def test_ema_ramps_its_decay_and_averages_each_weight():
    from yolo_studio.core.training.ema import WeightEMA

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    kernel = model.layers[0].kernel
    ema = WeightEMA(model, decay=0.9)
    start = kernel.numpy().copy()
    expected = start.copy()
    for n, value in enumerate([1.0, 2.0, 3.0, 4.0, 5.0] * 4):
        d = min(0.9, (1 + n) / (10 + n))      # the first updates forget the random start fast
        assert float(ema.current_decay()) == pytest.approx(d)
        kernel.assign(np.full_like(start, value))
        ema.update()
        expected = d * expected + (1 - d) * value
    np.testing.assert_allclose(ema.shadow[0].numpy(), expected, rtol=1e-5)
    assert 2.5 < float(ema.shadow[0].numpy().mean()) < 4.5    # lags the last weight (5), smoothly


def test_ema_swap_puts_the_training_weights_back_even_when_evaluation_fails():
    from yolo_studio.core.training.ema import WeightEMA

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    ema = WeightEMA(model, decay=0.5)
    raw = [w.numpy().copy() for w in model.weights]
    for s in ema.shadow:
        s.assign(s.numpy() + 7.0)
    with pytest.raises(RuntimeError):
        with ema.applied():
            np.testing.assert_allclose(model.weights[0].numpy(), raw[0] + 7.0)
            raise RuntimeError("validation crashed")
    for w, r in zip(model.weights, raw):
        np.testing.assert_array_equal(w.numpy(), r)


def test_darknet_weights_of_another_class_count_leave_the_new_outputs_as_from_scratch(ema_root, tmp_path):
    from yolo_studio.core.model.darknet_weights import write_darknet_weights
    from yolo_studio.core.training.init_weights import prior_logit

    donor = build_model("yolov3-tiny", 5, 128)
    rng = np.random.default_rng(1)
    for w in donor.weights:
        w.assign(np.ones(w.shape, np.float32) if "variance" in w.path
                 else rng.normal(0, 0.05, w.shape).astype(np.float32))
    path = tmp_path / "five-classes.weights"
    write_darknet_weights(donor, path)

    cfg = TrainConfig(epochs=1, **{**FAST, "input_size": 128}, start_from="darknet",
                      darknet_weights=str(path))
    trainer = Trainer(Project.open(ema_root), cfg)
    trainer.prepare()
    np.testing.assert_allclose(trainer.model.get_layer("backbone_conv_03").kernel.numpy(),
                               donor.get_layer("backbone_conv_03").kernel.numpy())
    samples = trainer.data.train_source.samples
    per_image = sum(len(s.classes) for s in samples) / len(samples)
    classes = len(trainer.data.class_names)
    for layer, cells in zip(output_layers(trainer.model), (8 * 8, 4 * 4)):
        # small kernels and the prior, as from scratch; not glorot and zero biases, which
        # made every cell of the first batches say "object" with p = 0.5
        assert layer.kernel.numpy().std() == pytest.approx(0.01, rel=0.1)
        bias = layer.bias.numpy().reshape(3, 5 + classes)
        np.testing.assert_allclose(bias[:, 4], prior_logit(per_image / cells), rtol=1e-5)
        np.testing.assert_allclose(bias[:, 5:], prior_logit(1 / (classes + 0.01)), rtol=1e-5)
