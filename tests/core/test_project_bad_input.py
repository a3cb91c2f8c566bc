"""load_all on a damaged dataset: every fault is reported by file, the rest loads, nothing is written."""
import os

import pytest

from yolo_studio.core.errors import LabelFileError
from yolo_studio.core.project import Project


def _snapshot(root):
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(root.rglob("*")) if p.is_file()}


def _with_object(images):
    return [p for p in sorted(images.glob("*.xml")) if "<object>" in p.read_text()]


def test_every_bad_input_is_reported_and_the_rest_loads(demo_copy):
    images = demo_copy / "images"
    good = Project.open(demo_copy)
    n_good = len(good.load_all()[0])
    expected = _damage_voc(images)
    before = _snapshot(demo_copy)
    anns, problems = Project.open(demo_copy).load_all()
    assert _snapshot(demo_copy) == before                  # nothing written, moved or deleted
    for name, words in expected.items():
        hits = [p for p in problems if os.path.basename(p.path) == name]
        assert hits and any(words in p.message for p in hits), (name, words, problems)
    # the malformed label and the undecodable image drop out; every other image still loads
    assert len(anns) == n_good - 2
    assert all(0 <= b.x1 < b.x2 <= a.width and 0 <= b.y1 < b.y2 <= a.height for a in anns for b in a.boxes)


def _damage_voc(images):
    """One of each bad input the issue lists; returns {file name: words its report must contain}."""
    order = _with_object(images)[:5]       # files holding objects, so each fault has a box to act on
    xmls = sorted(images.glob("*.xml"))
    expected = {}
    order[0].write_text("<annotation><object><name>circle</name>")
    expected[order[0].name] = "malformed XML"
    order[1].write_text(order[1].read_text().replace("<xmin>", "<xmin>-40", 1))
    expected[order[1].name] = "clipped"
    text = order[2].read_text()
    start = text.index("<xmax>") + len("<xmax>")
    order[2].write_text(text[:start] + "0" + text[text.index("</xmax>"):])
    expected[order[2].name] = "zero or negative size"
    order[3].write_text(order[3].read_text().replace("<name>", "<name>unicorn_", 1))
    expected[order[3].name] = "not in the project's classes"
    order[4].with_suffix(".jpg").write_bytes(b"\x00garbage, not a jpeg")
    expected[order[4].with_suffix(".jpg").name] = "cannot be decoded"
    (images / "lonely.xml").write_text(xmls[-1].read_text())
    expected["lonely.xml"] = "no image next to it"
    return expected


def test_yolo_bad_inputs(tmp_path):
    from yolo_studio.core.demo import generate_demo_project
    root = generate_demo_project(tmp_path / "y", n_images=8, seed=3, min_size=64, max_size=96, label_format="yolo")
    images = root / "images"
    txts = [p for p in sorted(images.glob("demo_*.txt")) if p.read_text().strip()]
    txts[0].write_text("0 0.5 0.5\n")                                          # malformed line
    txts[1].write_text(txts[1].read_text() + "9 0.5 0.5 0.1 0.1\n")          # unknown class id
    txts[2].write_text("1 0.5 0.5 0 0.2\n2 1.1 0.5 0.4 0.4\n")               # zero size + outside
    before = _snapshot(root)
    anns, problems = Project.open(root).load_all()
    assert _snapshot(root) == before
    text = "\n".join(map(str, problems))
    assert f"{txts[0].name}: line 1 has 3 fields" in text
    assert f"{txts[1].name}: line" in text and "class id 9" in text
    assert "zero or negative size" in text and "clipped" in text
    assert len(anns) == 7
    project = Project.open(root)
    with pytest.raises(LabelFileError, match=txts[0].name):
        project.load_annotation(txts[0].with_suffix(".jpg"))


def test_a_crash_mid_save_leaves_the_old_label_whole(demo_copy, monkeypatch):
    project = Project.open(demo_copy)
    image = next(p for p in project.image_paths() if project.load_annotation(p).boxes)
    label = project.label_path(image)
    old = label.read_bytes()
    ann = project.load_annotation(image)
    ann.boxes = ann.boxes[:1]

    def crash(src, dst):
        raise OSError("power cut")
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        project.save_annotation(ann)
    monkeypatch.undo()
    assert label.read_bytes() == old
    assert [p.name for p in label.parent.iterdir() if p.name.endswith(".tmp")] == []
