"""Labels and the project keep their meaning: the rows of the reliability review (issue 12).

Each test names its row (#n) in reliability-2026-12-01.md and fails on the code before the fix.
"""
from __future__ import annotations

import errno
import json
import os
import time

import cv2
import numpy as np
import pytest

from yolo_studio.core import atomic
from yolo_studio.core.annotations import Box, ImageAnnotation
from yolo_studio.core.atomic import JOURNAL_PREFIX, MissingFolderError, journals
from yolo_studio.core.errors import ConfigError, LabelFileError, YoloStudioError
from yolo_studio.core.formats.voc import read_voc, voc_xml, write_voc
from yolo_studio.core.formats.yolo_txt import read_classes, read_yolo, sidecar_path, write_yolo
from yolo_studio.core.project import Project


def image(path, w=200, h=100):
    cv2.imwrite(str(path), np.full((h, w, 3), 128, np.uint8))
    return path


def yolo_project(tmp_path, classes=("cat", "dog", "bird")):
    p = Project.create(tmp_path / "p", list(classes), label_format="yolo")
    return p, p.image_dirs[0]


def labels_of(root, name):
    return Project.open(root).load_annotation(root / "images" / name).labels()


# --- #29: class remove/rename in a YOLO project --------------------------------------

def test_29_remove_class_refuses_and_names_a_file_with_a_stray_line(tmp_path):
    p, d = yolo_project(tmp_path)
    image(d / "a.jpg")
    (d / "a.txt").write_text("1 0.5 0.5 0.2 0.2\n1 0.3 0.3 0.1 0.1 0.9 x\n")
    with pytest.raises(ConfigError, match=r"a\.txt: line 2 has 7 fields") as err:
        p.remove_class("cat")
    assert "nothing was changed" in str(err.value)
    # Nothing changed: the class list and the file still agree, so the dog is still a dog.
    assert p.classes == ["cat", "dog", "bird"] == read_classes(d / "classes.txt")
    assert Project.open(p.root).classes == ["cat", "dog", "bird"]
    (d / "a.txt").write_text("1 0.5 0.5 0.2 0.2\n")           # the user fixes the stray line
    assert labels_of(p.root, "a.jpg") == ["dog"]


def test_29_remove_class_renumbers_files_whose_image_is_missing_or_unreadable(tmp_path):
    p, d = yolo_project(tmp_path)
    image(d / "ok.jpg")
    (d / "ok.txt").write_text("1 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.4 0.4\n")
    (d / "broken.jpg").write_bytes(b"not an image")
    (d / "broken.txt").write_text("2 0.5 0.5 0.2 0.2\n")
    (d / "orphan.txt").write_text("1 0.5 0.5 0.2 0.2\n2 0.1 0.1 0.1 0.1\n")  # its image is gone
    assert p.remove_class("cat") == 1
    assert p.classes == ["dog", "bird"] == read_classes(d / "classes.txt")
    assert labels_of(p.root, "ok.jpg") == ["dog"]
    # Once the images are back, their boxes are what they were: the bird a bird, the dog a dog.
    image(d / "broken.jpg")
    image(d / "orphan.jpg")
    assert labels_of(p.root, "broken.jpg") == ["bird"]
    assert labels_of(p.root, "orphan.jpg") == ["dog", "bird"]


def test_29_merge_rename_keeps_the_sidecar_with_its_lines(tmp_path):
    p, d = yolo_project(tmp_path)
    image(d / "a.jpg")
    p.save_annotation(ImageAnnotation(d / "a.jpg", 200, 100, [
        Box(10, 10, 50, 50, "cat", predicted=True, score=0.5), Box(60, 10, 90, 50, "bird")], True))
    changed = p.rename_class("cat", "bird")                    # merge cat into bird
    assert changed == [d / "a.txt"]
    ann = Project.open(p.root).load_annotation(d / "a.jpg")
    assert p.classes == ["dog", "bird"]
    assert ann.labels() == ["bird", "bird"] and ann.verified
    assert [b.predicted for b in ann.boxes] == [True, False] and ann.boxes[0].score == 0.5


def test_29_voc_removal_refuses_when_an_unreadable_file_may_hold_the_class(tmp_path):
    p = Project.create(tmp_path / "p", ["cat", "dog"])
    d = p.image_dirs[0]
    image(d / "a.jpg")
    p.save_annotation(ImageAnnotation(d / "a.jpg", 200, 100, [Box(10, 10, 50, 50, "cat")]))
    (d / "b.xml").write_text("<annotation><object><name>cat</name><bndbox>")   # malformed
    before = (d / "a.xml").read_bytes()
    with pytest.raises(ConfigError, match=r"b\.xml.*may hold boxes of 'cat'"):
        p.rename_class("cat", "feline")
    assert (d / "a.xml").read_bytes() == before and p.classes == ["cat", "dog"]
    (d / "b.xml").write_text("<annotation><object><name>dog</name><bndbox>")   # cannot hold cat
    assert p.rename_class("cat", "feline") == [d / "a.xml"]
    assert read_voc(d / "a.xml").labels() == ["feline"]


def test_29_a_relabel_killed_half_way_is_finished_on_the_next_open(tmp_path, monkeypatch):
    p, d = yolo_project(tmp_path)
    for name in "abc":
        image(d / f"{name}.jpg")
        (d / f"{name}.txt").write_text("2 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.4 0.4\n")
    real_replace, calls = os.replace, []

    def die_after_two(src, dst):
        if str(src).endswith(".tmp") and JOURNAL_PREFIX not in str(dst):
            calls.append(dst)
            if len(calls) > 2:
                raise KeyboardInterrupt("killed")       # stands in for kill -9 mid-commit
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", die_after_two)
    with pytest.raises(KeyboardInterrupt):
        p.remove_class("cat")
    monkeypatch.setattr(os, "replace", real_replace)
    assert journals(p.root)
    os.rename(p.root, tmp_path / "moved")                          # the journal's paths are relative
    root, d = tmp_path / "moved", tmp_path / "moved" / "images"
    again = Project.open(root)                                   # rolls the change forward
    assert not journals(root)
    assert again.classes == ["dog", "bird"] == read_classes(d / "classes.txt")
    for name in "abc":
        assert again.load_annotation(d / f"{name}.jpg").labels() == ["bird", "dog"]
    assert not [f for f in os.listdir(d) if f.endswith(".tmp")]


def test_a_journal_that_cannot_be_read_stops_the_open_with_its_name(tmp_path):
    p = Project.create(tmp_path / "p", ["cat"])
    (p.root / f"{JOURNAL_PREFIX}0123abcd.json").write_text("{broken")
    with pytest.raises(ConfigError, match=r"journal-0123abcd\.json: an interrupted change"):
        Project.open(p.root)


# --- #76, #70: a save that adds a class -----------------------------------------------

def _disk_full_for(monkeypatch, name):
    real = atomic._stage

    def stage(path, data):
        if path.name == name:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, data)
    monkeypatch.setattr(atomic, "_stage", stage)


@pytest.mark.parametrize("full", ["yolo_studio.json", "classes.txt", "a.txt"])
def test_76_disk_full_during_a_save_adding_a_class_changes_nothing_then_the_retry_works(
        tmp_path, monkeypatch, full):
    p, d = yolo_project(tmp_path)
    image(d / "a.jpg")
    ann = ImageAnnotation(d / "a.jpg", 200, 100, [Box(10, 10, 50, 50, "fox")])
    _disk_full_for(monkeypatch, full)
    with pytest.raises(OSError):
        p.save_annotation(ann)
    assert p.classes == ["cat", "dog", "bird"]                    # #70: memory matches the files
    assert not (d / "a.txt").exists() and read_classes(d / "classes.txt") == ["cat", "dog", "bird"]
    monkeypatch.undo()
    p.save_annotation(ann)                                        # the labeller's retry
    again = Project.open(p.root)
    assert again.classes == ["cat", "dog", "bird", "fox"] == read_classes(d / "classes.txt")
    assert again.load_annotation(d / "a.jpg").labels() == ["fox"]
    assert not [f for f in os.listdir(d) if f.endswith(".tmp")]


def test_70_a_failed_add_class_leaves_the_class_list_in_memory_as_on_disk(tmp_path, monkeypatch):
    p = Project.create(tmp_path / "p", ["cat"])
    _disk_full_for(monkeypatch, "yolo_studio.json")
    with pytest.raises(OSError):
        p.add_class("dog")
    assert p.classes == ["cat"] == Project.open(p.root).classes


# --- #9, #23: boxes that cannot be shown are kept -------------------------------------

R4_XML = ("<annotation><filename>a.jpg</filename><size><width>200</width><height>100</height></size>"
          "<object><name>cat</name><bndbox><xmin>150</xmin><ymin>10</ymin><xmax>20</xmax><ymax>90</ymax>"
          "</bndbox></object>"
          "<object><name>cat</name><bndbox><xmin>10</xmin><ymin>10</ymin><xmax>50</xmax><ymax>50</ymax>"
          "</bndbox></object>"
          "<object><name>cat</name><bndbox><xmin>300</xmin><ymin>10</ymin><xmax>390</xmax><ymax>50</ymax>"
          "</bndbox></object></annotation>")


def test_9_voc_boxes_that_cannot_be_shown_survive_every_save_exactly(tmp_path):
    p = Project.create(tmp_path / "p", ["cat"])
    d = p.image_dirs[0]
    image(d / "a.jpg")
    (d / "a.xml").write_text(R4_XML)
    ann = p.load_annotation(d / "a.jpg")
    assert len(ann.boxes) == 1 and len(ann.hidden) == 2
    assert "zero or negative size" in ann.hidden[0].problem and "outside" in ann.hidden[1].problem
    assert all(n in ann.notes for n in (h.problem for h in ann.hidden))
    ann.verified = True
    p.save_annotation(ann)
    ann.boxes = []                                                  # even deleting every visible box
    p.save_annotation(ann)
    text = (d / "a.xml").read_text()
    assert text.count("<object>") == 2
    assert "<xmin>150</xmin><ymin>10</ymin><xmax>20</xmax>" in text   # as it was
    assert len(p.load_annotation(d / "a.jpg").hidden) == 2
    anns, problems = p.load_all()                                   # training still skips them
    assert [len(a.boxes) for a in anns] == [0]
    assert sum("skipped" in pr.message for pr in problems) == 2


def test_23_yolo_lines_that_cannot_be_shown_survive_every_save_exactly(tmp_path):
    p, d = yolo_project(tmp_path)
    image(d / "a.jpg")
    odd = ["2 1.5 0.5 0.2 0.2", "1 0.5 0.5 -0.2 0.2"]
    (d / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n" + "\n".join(odd) + "\n")
    ann = p.load_annotation(d / "a.jpg")
    assert ann.labels() == ["cat"] and [h.raw for h in ann.hidden] == odd
    assert [h.label for h in ann.hidden] == ["bird", "dog"]
    ann.verified = True
    ann.boxes.append(Box(1, 1, 20, 20, "dog"))
    p.save_annotation(ann)
    lines = (d / "a.txt").read_text().splitlines()
    assert lines[-2:] == odd and len(lines) == 4
    assert p.remove_class("cat") == 1                               # hidden lines renumber too
    assert (d / "a.txt").read_text().splitlines()[-2:] == ["1 1.5 0.5 0.2 0.2", "0 0.5 0.5 -0.2 0.2"]


def test_23_a_label_file_that_cannot_be_read_is_never_overwritten(tmp_path):
    p, d = yolo_project(tmp_path)
    image(d / "a.jpg")
    (d / "a.txt").write_text("7 0.5 0.5 0.2 0.2\n")     # class id 7 has no name (yet)
    with pytest.raises(LabelFileError, match="left as it is"):
        p.save_annotation(ImageAnnotation(d / "a.jpg", 200, 100, [Box(1, 1, 9, 9, "cat")]))
    assert (d / "a.txt").read_text() == "7 0.5 0.5 0.2 0.2\n"


# --- #30: txt and sidecar ---------------------------------------------------------------

def test_30_a_sidecar_from_another_save_does_not_vouch_for_the_txt(tmp_path):
    d = tmp_path
    ann = ImageAnnotation(d / "a.jpg", 200, 100, [Box(10, 10, 50, 50, "cat")], verified=True)
    write_yolo(ann, d / "a.txt", ["cat"])
    assert read_yolo(d / "a.txt", 200, 100, ["cat"]).verified
    (d / "a.txt").write_text("0 0.5 0.5 0.9 0.9\n")            # another save (or tool) changed the txt
    again = read_yolo(d / "a.txt", 200, 100, ["cat"])
    assert not again.verified and any("verify it again" in n for n in again.notes)


def test_30_project_writes_the_txt_and_its_sidecar_together(tmp_path, monkeypatch):
    p, d = yolo_project(tmp_path)
    image(d / "a.jpg")
    p.save_annotation(ImageAnnotation(d / "a.jpg", 200, 100, [Box(10, 10, 50, 50, "cat")], True))
    real_replace = os.replace

    def die_after_txt(src, dst):
        real_replace(src, dst)
        if str(dst).endswith("a.txt"):
            raise KeyboardInterrupt("killed")
    monkeypatch.setattr(os, "replace", die_after_txt)
    with pytest.raises(KeyboardInterrupt):
        p.save_annotation(ImageAnnotation(d / "a.jpg", 200, 100, [Box(10, 10, 90, 50, "dog")], False))
    monkeypatch.setattr(os, "replace", real_replace)
    ann = Project.open(p.root).load_annotation(d / "a.jpg")
    assert ann.labels() == ["dog"] and not ann.verified and not sidecar_path(d / "a.txt").exists()


# --- #112, #113, #114, #43: class names -------------------------------------------------

@pytest.mark.parametrize("name", ["a\x0bb", "a\x00b", " cat ", "c\ra", "line\nbreak", "x\u2028y"])
def test_112_113_114_a_bad_class_name_is_refused_and_nothing_is_written(tmp_path, name):
    for fmt in ("voc", "yolo"):
        p = Project.create(tmp_path / fmt, ["cat"], label_format=fmt)
        d = p.image_dirs[0]
        image(d / "a.jpg")
        p.save_annotation(ImageAnnotation(d / "a.jpg", 200, 100, [Box(1, 1, 9, 9, "cat")]))
        before = p.label_path(d / "a.jpg").read_bytes()
        with pytest.raises(ConfigError, match="class name"):
            p.save_annotation(ImageAnnotation(d / "a.jpg", 200, 100, [Box(1, 1, 9, 9, name)]))
        with pytest.raises(ConfigError):
            p.add_class(name)
        assert p.classes == ["cat"] == Project.open(p.root).classes
        assert p.label_path(d / "a.jpg").read_bytes() == before


def test_43_the_voc_writer_never_writes_a_file_it_cannot_read(tmp_path):
    for box in (Box(1, 1, 9, 9, "a\x01b"), Box(1, 1, 9, 9, "cat", score=float("nan"))):
        with pytest.raises(LabelFileError, match="not written"):
            write_voc(ImageAnnotation(tmp_path / "a.jpg", 20, 20, [box]), tmp_path / "a.xml")
        assert not (tmp_path / "a.xml").exists()
    # File names XML cannot hold are replaced in the informational fields; the file stays readable.
    ann = ImageAnnotation(tmp_path / "a\x01\udcff.jpg", 20, 20, [Box(1, 1, 9, 9, "cat")])
    write_voc(ann, tmp_path / "b.xml")
    assert read_voc(tmp_path / "b.xml").labels() == ["cat"]


def test_a_class_name_in_a_voc_file_that_breaks_the_rule_is_kept_but_not_shown(tmp_path):
    (tmp_path / "a.xml").write_text("<annotation><size><width>20</width><height>20</height></size>"
                                    "<object><name>a\tb</name><bndbox><xmin>1</xmin><ymin>1</ymin>"
                                    "<xmax>9</xmax><ymax>9</ymax></bndbox></object></annotation>")
    ann = read_voc(tmp_path / "a.xml")
    assert ann.boxes == [] and "class name" in ann.hidden[0].problem
    write_voc(ann, tmp_path / "a.xml")
    assert "<name>a\tb</name>" in (tmp_path / "a.xml").read_text()


def test_classes_txt_with_a_control_character_is_refused_naming_the_line(tmp_path):
    (tmp_path / "classes.txt").write_text("cat\nd\x01og\n")
    with pytest.raises(LabelFileError, match=r"classes\.txt: line 2"):
        read_classes(tmp_path / "classes.txt")


# --- #15: a plain LabelImg folder ---------------------------------------------------------

def test_15_refused_or_malformed_xml_gives_no_class_names(tmp_path):
    image(tmp_path / "a.jpg")
    write_voc(ImageAnnotation(tmp_path / "a.jpg", 200, 100, [Box(1, 1, 9, 9, "cat")]), tmp_path / "a.xml")
    image(tmp_path / "b.jpg")
    (tmp_path / "b.xml").write_text('<?xml version="1.0"?><!DOCTYPE annotation [<!ENTITY xxe SYSTEM '
                                    '"file:///etc/passwd">]><annotation><object><name>&xxe;</name>'
                                    "</object></annotation>")
    image(tmp_path / "c.jpg")
    (tmp_path / "c.xml").write_bytes(b"<annotation><object><name>caf\xe9</name><bndbox>"
                                     b"<xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax>"
                                     b"</bndbox></object></annotation>")
    image(tmp_path / "d.jpg")
    (tmp_path / "d.xml").write_text("<annotation><object><name>a&#1;b</name></object></annotation>")
    assert Project.open(tmp_path).classes == ["cat"]


# --- #12: <size> that is not a number ----------------------------------------------------

def test_12_a_size_that_is_not_a_number_uses_the_images_size_and_says_so(tmp_path):
    p = Project.create(tmp_path / "p", ["cat"])
    d = p.image_dirs[0]
    image(d / "a.jpg")
    (d / "a.xml").write_text("<annotation><size><width>nan</width><height>100</height></size>"
                             "<object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>9</xmax>"
                             "<ymax>9</ymax></bndbox></object></annotation>")
    ann = p.load_annotation(d / "a.jpg")
    assert (ann.width, ann.height) == (200, 100) and ann.labels() == ["cat"]
    assert any("nan" in n and "image's own size" in n for n in ann.notes)
    anns, problems = p.load_all()
    assert len(anns) == 1 and any("image's own size" in pr.message for pr in problems)


# --- #63, #69: the project file -----------------------------------------------------------

def test_63_anchors_size_true_is_refused(tmp_path):
    p = Project.create(tmp_path / "p", ["cat"])
    data = json.loads(p.project_file.read_text())
    data["anchors_size"] = True
    p.project_file.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="anchors_size"):
        Project.open(p.root)


def test_69_unknown_keys_are_kept_and_a_newer_version_is_refused_untouched(tmp_path):
    p = Project.create(tmp_path / "p", ["cat"])
    data = json.loads(p.project_file.read_text())
    data["plugin_settings"] = {"colour": "red"}
    p.project_file.write_text(json.dumps(data))
    q = Project.open(p.root)
    q.add_class("dog")
    assert json.loads(p.project_file.read_text())["plugin_settings"] == {"colour": "red"}
    data["version"] = 99
    p.project_file.write_text(json.dumps(data))
    before = p.project_file.read_bytes()
    with pytest.raises(ConfigError, match="newer YOLO Studio"):
        Project.open(p.root)
    assert p.project_file.read_bytes() == before


# --- #71: the project folder has gone ---------------------------------------------------

def test_71_a_project_moved_while_open_is_never_recreated(tmp_path):
    p = Project.create(tmp_path / "p", ["cat"])
    d = p.image_dirs[0]
    image(d / "a.jpg")
    ann = ImageAnnotation(d / "a.jpg", 200, 100, [Box(1, 1, 9, 9, "cat")])
    os.rename(tmp_path / "p", tmp_path / "moved")
    for save in (lambda: p.save_annotation(ann), p.save, lambda: p.add_class("dog"),
                 lambda: p.add_image(np.zeros((8, 8, 3), np.uint8), "x.jpg")):
        with pytest.raises(MissingFolderError, match=r"folder not found.*nothing was written elsewhere"):
            save()
    assert not (tmp_path / "p").exists()
    assert isinstance(MissingFolderError(tmp_path, tmp_path / "x"), YoloStudioError)
    assert not (tmp_path / "moved" / "images" / "a.xml").exists()


# --- #73, #74: orphan temporary files -----------------------------------------------------

def test_73_74_orphan_temp_files_of_a_killed_save_are_removed_on_the_next_open(tmp_path):
    p = Project.create(tmp_path / "p", ["cat"])
    d = p.image_dirs[0]
    ours = [d / ".a.xml.ys-ab12cd_9.tmp", d / ".b.txt.ys-0a1b2c3d.tmp", p.root / ".yolo_studio.json.ys-x1y2z3w4.tmp"]
    # ".<name>.<8>.tmp" (older versions' temp name) is also a person's ".notes.txt.backup01.tmp"
    theirs = [d / "notes.tmp", d / ".a.xml.tmp", d / ".vimrc.abcdefgh.tmp", d / "a.xml.ab12cd_9.tmp",
              d / ".a.xml.ab12cd_9.tmp"]
    young = d / ".c.xml.ys-young123.tmp"
    old = time.time() - 3600
    for f in ours + theirs + [young]:
        f.write_text("x")
        if f is not young:
            os.utime(f, (old, old))
    Project.open(p.root)
    assert [f.exists() for f in ours] == [False] * 3
    assert all(f.exists() for f in theirs) and young.exists()   # a save in progress elsewhere


def test_voc_xml_of_a_hidden_box_must_still_parse(tmp_path):
    from yolo_studio.core.annotations import HiddenBox
    ann = ImageAnnotation(tmp_path / "a.jpg", 20, 20, [], hidden=[HiddenBox("<object><name>", "x")])
    with pytest.raises(LabelFileError):
        voc_xml(ann, tmp_path / "a.xml")
