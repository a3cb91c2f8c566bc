"""A project's image folder outside its root is recognised by the writers' guard (it was not).

Attack review 2026-12-01: a project whose ``image_dirs`` names a folder outside
its root (allowed: absolute paths are kept) is invisible to
``output_guard.project_using``, which only looks for yolo_studio.json in the
folder and above it. ``detect --out <that folder> --overwrite`` then adds
box-drawn copies and predicted labels to the project's training images.
Nothing is replaced, but the project gains images it should not have.
"""
from __future__ import annotations

import json

import pytest

from yolo_studio.core.output_guard import OutputFolder, OutputRefused, project_using
from yolo_studio.core.project import Project


def test_an_image_folder_outside_the_project_root_is_recognised(tmp_path):
    # Fixed with a per-user list of such folders (core/external_dirs.py), written when a project
    # is saved or opened here.
    photos = tmp_path / "photos"
    photos.mkdir()
    p = Project.create(tmp_path / "proj", ["cat"], image_dirs=[str(photos)])
    assert project_using(photos) == p.root


def test_a_project_copied_here_is_known_once_opened_and_forgotten_when_it_drops_the_folder(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    root = tmp_path / "proj"
    root.mkdir()
    (root / "yolo_studio.json").write_text(json.dumps({"classes": ["cat"], "image_dirs": [str(photos)]}))
    assert project_using(photos) is None          # never opened on this machine: unknown
    project = Project.open(root)
    assert project_using(photos) == project.root
    with pytest.raises(OutputRefused, match="YOLO Studio project"):
        OutputFolder(photos, "detect", overwrite=True).check(["x.jpg"])
    project.image_dirs = [root / "images"]
    project.save()
    assert project_using(photos) is None          # the project no longer uses it
