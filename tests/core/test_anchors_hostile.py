"""Anchors when an image's header lies about its size (review row 118)."""
from __future__ import annotations

import re

from yolo_studio.cli import main
from yolo_studio.core.anchors import darknet_line


def test_image_whose_header_claims_60000_px_is_skipped_by_name_and_no_anchor_is_zero(
        demo_copy, capsys, forge_header_size):
    liar = sorted((demo_copy / "images").glob("*.jpg"))[3]
    forge_header_size(liar, 60000, 60000)
    assert main(["anchors", str(demo_copy), "--seed", "1"]) == 0
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert liar.name in text and "60000x60000" in text
    line = next(l for l in captured.out.splitlines() if "anchors =" in l)
    sizes = [int(v) for v in re.findall(r"\d+", line.split("=", 1)[1])]
    assert len(sizes) == 18 and min(sizes) >= 3     # no anchor from a 0.4 px box


def test_darknet_line_never_prints_a_zero_anchor():
    line = darknet_line([[0.4, 0.3], [10.2, 12.7], [0.6, 40.0]])
    assert line == "anchors = 1,1,  1,40,  10,13"
