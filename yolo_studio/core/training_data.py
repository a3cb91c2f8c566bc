"""TrainingData: what the trainer, the eval command and the anchors fit need from a project.

Two classes satisfy it: :class:`yolo_studio.core.project.Project` (a folder
with a ``yolo_studio.json``) and
:class:`yolo_studio.core.training.list_project.ListProject` (a pylessons
``train.txt`` list). Code that takes either types its argument with this
protocol and uses only these members, so neither needs ``getattr`` fallbacks.
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from .annotations import ImageAnnotation
from .errors import Problem
from .model_family import AnchorSet


@runtime_checkable
class TrainingData(Protocol):
    """A labelled image collection a model can be trained and evaluated on."""

    root: Path                      # where relative paths and the runs folder start
    classes: list[str]
    anchors: list | None            # stored per-scale anchors, None for the defaults
    anchors_size: int               # the input size the stored anchors were fitted at
    train_settings: dict            # saved training settings ({} for none)
    image_dirs: list[Path]          # folders scanned for images ([] for a list file)

    @property
    def runs_dir(self) -> Path:
        """Where training runs are written."""

    @property
    def project_file(self) -> Path:
        """The file that defines the collection (named in messages about its settings)."""

    def image_paths(self) -> list[Path]:
        """Every image."""

    def split(self) -> tuple[list[Path], list[Path]]:
        """(train, val) image paths."""

    def has_labels(self, image) -> bool:
        """Whether ``image`` is labelled (a labelled image without boxes is a negative)."""

    def load_annotation(self, image) -> ImageAnnotation:
        """The boxes of ``image``."""

    def load_all(self) -> tuple[list[ImageAnnotation], list[Problem]]:
        """Every labelled image's annotation, and what was skipped."""

    def box_table(self):
        """load_all's boxes as a BoxTable of columns, or None (then load_all is the way)."""

    def model_anchors(self, model: str, input_size: int) -> AnchorSet:
        """Anchors for ``model`` at ``input_size``."""
