"""Warnings about a project that still works, but not as its owner may think.

Kept apart from :mod:`yolo_studio.core.project` (which reads and writes the
project) because these only look: the ``train`` and ``anchors`` commands print
them before they start, so a setting that is being ignored is never silent.
"""
from __future__ import annotations

from .model_family import family
from .training_data import TrainingData


def missing_image_dirs(project: TrainingData) -> list[str]:
    """One warning per image folder of the project file that does not exist."""
    return [f"image folder {d} does not exist (image_dirs in {project.project_file}); its images are not used"
            for d in project.image_dirs if not d.is_dir()]


def anchor_count_warning(project: TrainingData, model: str) -> str:
    """A warning when the project's anchors do not fit ``model`` and defaults are used instead."""
    own = [a for g in (project.anchors or []) for a in g]
    need = family(model).n_anchors
    if not own or len(own) == need:
        return ""
    return (f"{project.project_file}: has {len(own)} anchors but {model} "
            f"needs {need}, so the COCO default anchors are used instead; fit a set with "
            f"`yolo-studio anchors {project.root} --model {model} --apply`")


def project_warnings(project: TrainingData, model: str) -> list[str]:
    """Every warning above, for the command to print before it starts."""
    note = anchor_count_warning(project, model)
    return missing_image_dirs(project) + ([note] if note else [])
