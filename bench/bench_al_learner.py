"""The model of bench_active_learning.py: one YOLOv3-tiny that keeps learning as images are revealed.

Built from the Trainer's own parts (the tf.data pipeline with augmentation,
target encoding, loss, compiled train step, from-scratch initialisation), but
kept in memory across rounds: a Trainer run validates and writes checkpoints
every epoch, which on a shared 2-core machine cost more than the few training
steps a round has. "Retrain from the last weights" is then literal: the next
round continues from the weights the last one ended with, with a fresh
cosine learning-rate cycle of a fixed number of epochs.
"""
from __future__ import annotations

import time

import numpy as np


class Learner:
    """A tiny model, its optimizer and compiled step, a detector and a scoring probe on the same weights."""

    def __init__(self, pool, size: int, batch: int, seed: int, lr: float = 2e-3):
        import keras
        import tensorflow as tf

        from yolo_studio.core.active.probe import ModelProbe
        from yolo_studio.core.detector import Detector
        from yolo_studio.core.model import ModelSpec, build_model
        from yolo_studio.core.model_family import family
        from yolo_studio.core.training.ema import WeightEMA
        from yolo_studio.core.training.init_weights import init_conv_kernels, init_output_biases
        from yolo_studio.core.training.steps import make_train_step

        keras.utils.set_random_seed(seed)
        self.pool, self.size, self.batch, self.seed, self.lr = pool, size, batch, seed, lr
        self.classes = list(pool.classes)
        self.anchors = pool.model_anchors("yolov3-tiny", size)
        self.strides = list(family("yolov3-tiny").strides)
        self.model = build_model("yolov3-tiny", len(self.classes), None)
        init_conv_kernels(self.model, "normal", seed)
        init_output_biases(self.model, len(self.classes), size, self.strides, 3, 3.0)
        self.optimizer = keras.optimizers.Adam(learning_rate=lr)
        self.optimizer.build(self.model.trainable_variables)
        self.ema = WeightEMA(self.model, 0.999)          # the Trainer's default recipe
        self.step = make_train_step(tf.distribute.get_strategy(), self.model, self.optimizer,
                                    self.model.trainable_variables, self.anchors, self.strides, batch,
                                    ema=self.ema)
        self.spec = ModelSpec("yolov3-tiny", len(self.classes), size, self.anchors, self.classes)
        self.detector = Detector.from_model(self.model, self.spec, size)
        self.probe = ModelProbe(self.model, self.spec, size)
        self._samples: dict = {}
        self.rounds = 0

    def set_weights(self, weights) -> None:
        """Start from ``weights`` (a list from ``get_weights``), e.g. the seed's shared start."""
        self.model.set_weights(weights)
        self.ema.reset()

    def train(self, images, epochs: int, after_epoch=None) -> float:
        """``epochs`` passes over ``images`` (augmented), a cosine lr cycle; returns CPU seconds.

        ``after_epoch(epoch, cpu_seconds_so_far)`` may return True to stop early.
        CPU time of this process, not wall time: the fairer clock on a shared machine.
        """
        from yolo_studio.core.training.init_weights import set_batchnorm_momentum
        from yolo_studio.core.training.pipeline import DataSource, load_samples

        t0 = time.process_time()
        new = [p for p in images if p not in self._samples]
        samples, _ = load_samples(self.pool, new, self.classes)
        self._samples.update({p: s for p, s in zip(new, samples)})
        source = DataSource([self._samples[p] for p in images], len(self.classes), self.size, self.anchors,
                            self.strides, augment=True, seed=self.seed * 7919 + self.rounds,
                            target_options={"assignment": "multi", "assign_iou": 0.3, "label_smoothing": 0.0})
        per_epoch = source.steps_per_epoch(self.batch)
        set_batchnorm_momentum(self.model, 0.0, per_epoch)     # fitted to the epoch, as the Trainer does
        steps = per_epoch * epochs
        warm = per_epoch if self.rounds == 0 else 0             # from scratch: one warm-up epoch
        k = 0
        for epoch in range(epochs):
            for images_b, targets, truth, _meta in source.dataset(epoch, self.batch, train=True):
                lr = self.lr / 20 + (self.lr - self.lr / 20) * 0.5 * (1 + np.cos(np.pi * k / max(steps, 1)))
                lr = lr * min(1.0, (k + 1) / warm) if warm else lr
                self.optimizer.learning_rate.assign(lr)
                self.step(images_b, targets, truth)
                k += 1
            if after_epoch is not None:
                spent = time.process_time() - t0
                pause = time.process_time()
                with self.ema.applied():
                    stop = after_epoch(epoch, spent)
                t0 += time.process_time() - pause          # evaluation is not training time
                if stop:
                    break
        self.rounds += 1
        spent = time.process_time() - t0
        # The Trainer's 'last' checkpoint holds the EMA weights: the next round starts from them.
        for shadow, weight in zip(self.ema.shadow, self.model.weights):
            weight.assign(shadow)
        self.ema.reset()
        return spent

    def map50(self, heldout_anns, images) -> float:
        """Held-out mAP@0.5 at the evaluation threshold (as `yolo-studio eval`)."""
        from yolo_studio.core.defaults import EVAL_SCORE_THRESHOLD
        from yolo_studio.core.evaluation import evaluate

        dets = [self.detector.detect(im, score_threshold=EVAL_SCORE_THRESHOLD) for im in images]
        return float(evaluate(heldout_anns, dets, self.classes).map50)
