"""`yolo-studio convert`: any pair of formats, every box kept, problems printed, nothing clobbered."""
import numpy as np
import pytest

from yolo_studio.cli import main
from yolo_studio.core.project import Project


def _by_name(anns):
    return {a.image_path.name: a for a in anns}


def _assert_same_boxes(src_anns, dst_anns):
    src, dst = _by_name(src_anns), _by_name(dst_anns)
    assert src.keys() == dst.keys()
    for name, a in src.items():
        b = dst[name]
        assert (b.width, b.height) == (a.width, a.height) and b.labels() == a.labels()
        np.testing.assert_allclose(b.boxes_array(), a.boxes_array(), atol=1e-3)   # demo boxes are whole pixels


def test_a_chain_through_every_format_keeps_every_box(small_demo_project, tmp_path, capsys):
    original, _ = Project.open(small_demo_project).load_all()
    src = small_demo_project / "images"
    source_files = {p: p.read_bytes() for p in small_demo_project.rglob("*") if p.is_file()}
    root = ["--image-root", str(small_demo_project)]   # COCO file names stay below their image root
    steps = [("voc", "coco", src, tmp_path / "d.json"),
             ("coco", "pylessons", tmp_path / "d.json", tmp_path / "list" / "train.txt"),
             ("pylessons", "yolo", tmp_path / "list" / "train.txt", tmp_path / "y"),
             ("yolo", "voc", tmp_path / "y", tmp_path / "v")]
    for fmt_from, fmt_to, a, b in steps:
        extra = root if "coco" in (fmt_from, fmt_to) else []
        assert main(["convert", "--from", fmt_from, "--to", fmt_to, *extra, str(a), str(b)]) == 0
        out = capsys.readouterr().out
        assert "converted 48 images" in out and "problem" not in out, out
    final = Project.open(tmp_path / "v")
    assert final.label_format == "voc" and final.classes == ["circle", "square", "triangle"]
    anns, problems = final.load_all()
    assert problems == []
    _assert_same_boxes(original, anns)
    assert all(a.image_path.exists() and tmp_path / "v" in a.image_path.parents for a in anns)
    # the list holds ../ paths into the source: nothing may be written there
    assert {p: p.read_bytes() for p in small_demo_project.rglob("*") if p.is_file()} == source_files


def test_yolo_output_is_a_usable_yolo_dataset(small_demo_project, tmp_path):
    assert main(["convert", "--from", "voc", "--to", "yolo", str(small_demo_project / "images"),
                 str(tmp_path / "y")]) == 0
    assert (tmp_path / "y" / "classes.txt").read_text() == "circle\nsquare\ntriangle\n"
    plain = Project.open(tmp_path / "y", label_format="yolo")
    assert len(plain.load_all()[0]) == 48


def test_problems_are_printed_and_the_source_is_untouched(demo_copy, tmp_path, capsys):
    xml = sorted((demo_copy / "images").glob("*.xml"))[0]
    xml.write_text("<annotation>")
    before = {p: p.read_bytes() for p in (demo_copy / "images").iterdir()}
    assert main(["convert", "--from", "voc", "--to", "coco", str(demo_copy), str(demo_copy / "o.json")]) == 0
    out = capsys.readouterr().out
    assert "converted 47 images" in out and f"problem: {xml}: malformed XML" in out
    assert {p: p.read_bytes() for p in (demo_copy / "images").iterdir()} == before


def test_refuses_to_overwrite_an_existing_file(small_demo_project, tmp_path, capsys):
    target = tmp_path / "keep.json"
    target.write_text("precious")
    root = ["--image-root", str(small_demo_project)]
    assert main(["convert", "--from", "voc", "--to", "coco", *root, str(small_demo_project), str(target)]) == 1
    assert "--overwrite" in capsys.readouterr().err and target.read_text() == "precious"
    assert main(["convert", "--from", "voc", "--to", "coco", "--overwrite", *root, str(small_demo_project),
                 str(target)]) == 0


@pytest.mark.parametrize("args,what", [
    (["--from", "coco", "--to", "voc", "missing.json", "out"], "file not found"),
    (["--from", "yolo", "--to", "voc", "DEMO", "out"], "classes.txt"),
])
def test_clear_errors(small_demo_project, tmp_path, capsys, args, what):
    args = [a.replace("DEMO", str(small_demo_project / "images")) for a in args]
    args = [str(tmp_path / a) if a in ("missing.json", "out") else a for a in args]
    assert main(["convert", *args]) == 1
    assert what in capsys.readouterr().err
