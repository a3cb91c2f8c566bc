"""What the model says about a batch of images: decoded predictions before NMS, and a feature embedding.

Built on the Keras model rather than :class:`~yolo_studio.core.detector.Detector`:
scoring needs every class probability (the detector returns the winning
score only) and the backbone's features, which no exported runtime exposes.
"""
from __future__ import annotations

import numpy as np

from yolo_studio.core.errors import ConfigError
from yolo_studio.core.images import letterbox_image


def feature_layer(model):
    """The backbone's last activation (Darknet-53's or tiny's): what the embedding pools."""
    candidates = [layer for layer in model.layers if layer.name.startswith("backbone_leaky_")]
    if not candidates:
        raise ConfigError(f"model '{model.name}' has no backbone layers to take features from")
    return max(candidates, key=lambda layer: int(layer.name.rsplit("_", 1)[1]))


def second_scale(size: int) -> int:
    """The other input size for the scale-consistency pass: about 1.25x, a multiple of 32."""
    return max(size + 32, int(round(size * 1.25 / 32)) * 32)


class ModelProbe:
    """Runs a Keras YOLO model at one or two input sizes; returns (decoded, embeddings) as numpy."""

    def __init__(self, model, spec, input_size: int | None = None):
        import keras
        import tensorflow as tf

        from yolo_studio.core.model import decode_predictions

        self.spec = spec
        self.input_size = int(input_size or spec.input_size)
        if self.input_size % 32:
            raise ConfigError(f"input size must be a multiple of 32, got {self.input_size}")
        net = keras.Model(model.inputs, [*model.outputs, feature_layer(model).output])
        anchors, n_cls, strides = spec.anchors, spec.num_classes, spec.strides

        @tf.function(reduce_retracing=True)
        def run(images):
            *raw, feat = net(tf.cast(images, tf.float32) / 255.0, training=False)
            raw = [tf.cast(r, tf.float32) for r in raw]
            decoded = decode_predictions(raw, anchors, n_cls, strides)
            return decoded, tf.reduce_mean(tf.cast(feat, tf.float32), axis=[1, 2])

        self._run = run

    @classmethod
    def load(cls, weights, input_size: int | None = None) -> "ModelProbe":
        """A probe for a checkpoint or darknet weights file (as the trainer writes them)."""
        from yolo_studio.core.model.loading import load_keras_model

        model, spec, _ = load_keras_model(weights, input_size=input_size)
        return cls(model, spec, input_size)

    def run(self, images_rgb: list[np.ndarray], size: int | None = None, flip: bool = False):
        """Letterbox RGB uint8 images to ``size`` (mirrored if ``flip``); returns (decoded, emb, letterboxes).

        ``decoded`` is (B, N, 5 + C) in network pixels, already mirrored back
        when ``flip``, so its boxes line up with the unflipped image.
        """
        size = int(size or self.input_size)
        boxed, lbs = zip(*(letterbox_image(im, size) for im in images_rgb))
        batch = np.stack(boxed)
        if flip:
            batch = np.ascontiguousarray(batch[:, :, ::-1])
        decoded, emb = self._run(batch)
        decoded = decoded.numpy()
        if flip:  # the whole canvas was mirrored, so x -> size - x is exact, padding included
            x1 = size - decoded[..., 2]
            decoded[..., 2] = size - decoded[..., 0]
            decoded[..., 0] = x1
        return decoded, emb.numpy(), list(lbs)
