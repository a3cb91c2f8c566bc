"""A journal edited or planted by hand (a shared or downloaded project) never touches files.

Attack review 2026-12-01: opening a project replays ``.yolo_studio.journal-*.json``;
before the fix a planted journal deleted or replaced any path it named
(``../x``, absolute paths) the moment the project was opened.
"""
from __future__ import annotations

import json

import pytest

from yolo_studio.core.errors import ConfigError
from yolo_studio.core.project import Project


def plant(root, steps):
    (root / ".yolo_studio.journal-planted01.json").write_text(json.dumps({"version": 1, "steps": steps}))


def test_a_planted_journal_cannot_delete_or_replace_files_outside_the_project(tmp_path):
    outside, other = tmp_path / "victim.txt", tmp_path / "victim2.txt"
    outside.write_text("a person's file")
    other.write_text("another person's file")
    p = Project.create(tmp_path / "p", ["cat"])
    (p.root / "evil.bin").write_text("EVIL")
    plant(p.root, [{"target": "../victim.txt", "staged": None},
                   {"target": str(other), "staged": "evil.bin"}])
    with pytest.raises(ConfigError, match="journal-planted01"):
        Project.open(p.root)
    assert outside.read_text() == "a person's file"
    assert other.read_text() == "another person's file"


def test_a_planted_journal_cannot_replace_a_file_inside_the_project_with_an_arbitrary_one(tmp_path):
    p = Project.create(tmp_path / "p", ["cat"])
    photo = p.image_dirs[0] / "photo.xml"
    photo.write_text("<annotation/>")
    (p.root / "notes.txt").write_text("mine")
    plant(p.root, [{"target": "images/photo.xml", "staged": "notes.txt"},
                   {"target": "notes.txt", "staged": None}])
    with pytest.raises(ConfigError, match="never stages"):
        Project.open(p.root)
    assert photo.read_text() == "<annotation/>"
    assert (p.root / "notes.txt").read_text() == "mine"
