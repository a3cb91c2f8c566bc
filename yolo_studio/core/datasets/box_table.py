"""Every usable box of a dataset as numpy columns, for questions about all of them at once.

Fitting anchors on COCO train2017 (860,000 boxes) or filtering the image
list by class must not build a Box object per box: a layout that keeps its
boxes as columns (COCO) answers from them. The table holds exactly the boxes
``Project.load_all`` gives (the same order, sizes computed the same way), so
either road gives the same anchors.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import Problem


@dataclass
class BoxTable:
    """The boxes of every labelled image, one row per box, images in load_all's order."""

    paths: list[Path]              # the labelled images, in load_all's order
    image_wh: np.ndarray           # (n images, 2) their width and height
    image: np.ndarray              # per box: index into ``paths``
    index: np.ndarray              # per box: its index in that image's ImageAnnotation.boxes
    wh: np.ndarray                 # per box: (x2 - x1, y2 - y1) in image pixels, float64
    cls: np.ndarray                # per box: index into ``classes``
    classes: list[str]
    problems: list[Problem] = field(default_factory=list)   # as load_all reports them

    @classmethod
    def build(cls, paths: list[Path], image_wh, parts: list[tuple], classes: list[str]) -> "BoxTable":
        """A table from parts of (image, index, wh, cls) columns, sorted by image then index."""
        image, index, wh, klass = (np.concatenate([p[i] for p in parts]) if parts else np.zeros(0)
                                   for i in range(4))
        order = np.lexsort((index, image))
        return cls(list(paths), np.asarray(image_wh, dtype=np.float64).reshape(-1, 2),
                   image.astype(np.int64)[order], index.astype(np.int64)[order],
                   wh.astype(np.float64).reshape(-1, 2)[order], klass.astype(np.int64)[order], list(classes))

    def images_with_boxes(self) -> int:
        """How many images have at least one box."""
        return len(np.unique(self.image))
