"""What every inference backend offers: letterboxed uint8 batches in, NMS-ed rows out."""
from __future__ import annotations

import numpy as np

from .nms import nms_batch


class Runtime:
    """One way to run a model: ``decoded`` gives (B, N, 5+C) rows, ``detect`` NMS-ed rows.

    Images are uint8 RGB batches (B, S, S, 3), letterboxed to the input size;
    the model graph itself divides by 255 and runs the TF decode, so every
    backend shares one decoder (core/model/decode.py).
    """

    name = "base"
    note = ""           # how it was made (e.g. 'cached'), for messages

    def decoded(self, images: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def detect(self, images: np.ndarray, score_threshold: float, iou_threshold: float,
               max_detections: int):
        """boxes (B, K, 4), scores (B, K), classes (B, K), valid (B,) as numpy arrays."""
        return nms_batch(self.decoded(images), score_threshold, iou_threshold, max_detections)
