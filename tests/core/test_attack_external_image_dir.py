"""A project's image folder outside its root is not recognised by the writers' guard.

Attack review 2026-12-01: a project whose ``image_dirs`` names a folder outside
its root (allowed: absolute paths are kept) is invisible to
``output_guard.project_using``, which only looks for yolo_studio.json in the
folder and above it. ``detect --out <that folder> --overwrite`` then adds
box-drawn copies and predicted labels to the project's training images.
Nothing is replaced, but the project gains images it should not have.
"""
from __future__ import annotations

import pytest

from yolo_studio.core.output_guard import project_using
from yolo_studio.core.project import Project


@pytest.mark.xfail(strict=True, reason="defect: project_using cannot see a project whose image folder "
                   "lies outside its root (no back-reference from the folder to the project); fixing it "
                   "needs a marker in such folders or a registry of projects, not a small change")
def test_an_image_folder_outside_the_project_root_is_recognised(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    p = Project.create(tmp_path / "proj", ["cat"], image_dirs=[str(photos)])
    assert project_using(photos) == p.root
