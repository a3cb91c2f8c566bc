"""Orphan-temp cleanup never deletes a person's file that merely looks like a temp name.

Attack review 2026-12-01: opening a project deleted hidden files such as
``.notes.txt.backup01.tmp`` or ``.thesis.json.draft_v2.tmp`` from its folders,
because older versions' temp pattern (``.<name>.<8 chars>.tmp``) matched them.
"""
from __future__ import annotations

import os
import time

from yolo_studio.core.project import Project


def test_a_persons_hidden_backup_with_a_temp_like_name_survives_opening_the_project(tmp_path):
    p = Project.create(tmp_path / "p", ["cat"])
    mine = [p.image_dirs[0] / ".notes.txt.backup01.tmp", p.root / ".thesis.json.draft_v2.tmp"]
    old = time.time() - 3600
    for f in mine:
        f.write_text("a person's draft")
        os.utime(f, (old, old))
    Project.open(p.root)
    assert [f.read_text() for f in mine] == ["a person's draft"] * 2
