"""Class names that look the same on screen, or that reorder or vanish, are refused.

Attack review 2026-12-01: a project accepted "café" (NFC) beside "café" (NFD),
"cat" beside "cat" + ZERO WIDTH JOINER, a name made only of U+200B (invisible in
the class list), and "dog\\u202egod" (RIGHT-TO-LEFT OVERRIDE: shown as "dogdog").
Boxes of the twin classes are indistinguishable in the labeller yet train as
different classes.
"""
from __future__ import annotations

import unicodedata

import cv2
import numpy as np
import pytest

from yolo_studio.core.annotations import Box, ImageAnnotation
from yolo_studio.core.errors import ConfigError
from yolo_studio.core.project import Project

NFC = "café"
NFD = unicodedata.normalize("NFD", NFC)


@pytest.mark.parametrize("twin", [NFD, "caf\u00e9\u200b", "\ufeffcaf\u00e9", "caf\u00e9\u200f"])
def test_a_class_that_looks_like_an_existing_one_is_refused_everywhere(tmp_path, twin):
    assert twin != NFC
    p = Project.create(tmp_path / "p", [NFC, "dog"])
    with pytest.raises(ConfigError, match="looks the same"):
        p.add_class(twin)
    with pytest.raises(ConfigError, match="looks the same"):
        p.rename_class("dog", twin)
    image = p.image_dirs[0] / "a.jpg"
    cv2.imwrite(str(image), np.zeros((50, 50, 3), np.uint8))
    with pytest.raises(ConfigError, match="looks the same"):
        p.save_annotation(ImageAnnotation(image, 50, 50, [Box(1, 1, 20, 20, twin)]))
    assert Project.open(p.root).classes == [NFC, "dog"]
    with pytest.raises(ConfigError, match="look the same"):
        Project.create(tmp_path / "q", [NFC, twin])


@pytest.mark.parametrize("name", ["\u200b", "\u200d\u200c", "dog\u202egod", "a\u2066b\u2069"])
def test_an_invisible_or_reordering_class_name_is_refused(tmp_path, name):
    p = Project.create(tmp_path / "p", ["cat"])
    with pytest.raises(ConfigError, match="class name"):
        p.add_class(name)
    assert Project.open(p.root).classes == ["cat"]


def test_real_words_with_joiners_and_marks_are_still_accepted(tmp_path):
    # ZWNJ is part of Persian spelling; a right-to-left mark after Hebrew text is normal.
    p = Project.create(tmp_path / "p", ["cat"])
    for name in ["می\u200cخواهم", "חתול\u200f", "Cat", "do\u200dg"]:
        p.add_class(name)
    assert len(Project.open(p.root).classes) == 5
