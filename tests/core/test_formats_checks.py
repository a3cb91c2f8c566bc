"""formats/checks: the box checks every label reader applies."""
from __future__ import annotations

from pathlib import Path

import pytest

from yolo_studio.core.annotations import Box
from yolo_studio.core.errors import LabelFileError
from yolo_studio.core.formats.checks import check_boxes, fit_box, parse_float, unknown_class

F = Path("a.xml")


def test_parse_float_names_the_field_it_could_not_read():
    assert parse_float(" 12.5 ", F, "xmin") == 12.5
    for bad, why in (("", "not a number"), ("nan", "not a finite"), (None, "not a number")):
        with pytest.raises(LabelFileError, match=f"a.xml.*xmin.*{why}"):
            parse_float(bad, F, "xmin")


def test_fit_box_clips_drops_and_says_why():
    assert fit_box(Box(1, 1, 5, 5, "c"), 10, 10) == (Box(1, 1, 5, 5, "c"), "")
    assert fit_box(Box(5, 1, 1, 5, "c"), 10, 10)[1].startswith("has zero or negative size")
    assert fit_box(Box(-4, 2, 6, 12, "c"), 10, 10) == (Box(0, 2, 6, 10, "c"), "extends outside the 10x10 image; clipped")
    assert fit_box(Box(20, 20, 30, 30, "c"), 10, 10) == (None, "lies entirely outside the 10x10 image; skipped")
    assert fit_box(Box(0, 0, 10.0004, 10, "c"), 10, 10) == (Box(0, 0, 10, 10, "c"), "")   # rounding, silent
    assert fit_box(Box(20, 20, 30, 30, "c"), 0, 0)[0] is not None      # image size unknown: kept


def test_check_boxes_reports_each_fix_and_keeps_the_usable_ones():
    seen = []
    kept = check_boxes([Box(1, 1, 5, 5, "a"), Box(5, 5, 5, 9, "b"), Box(-1, 0, 4, 4, "c")], 10, 10, F,
                       seen.append)
    assert kept == [Box(1, 1, 5, 5, "a"), Box(0, 0, 4, 4, "c")]
    assert [p.message.split(" (")[0] for p in seen] == ["box 2", "box 3"]
    assert check_boxes([Box(5, 5, 5, 9, "b")], 10, 10, F, None) == []       # silent without a listener


def test_an_unknown_class_raises_only_in_a_strict_read():
    with pytest.raises(LabelFileError, match="class 'x'"):
        unknown_class(F, None, "class 'x' is not in the list")
    seen = []
    unknown_class(F, seen.append, "class 'x' is not in the list")
    assert seen[0].message.endswith("; box skipped")
