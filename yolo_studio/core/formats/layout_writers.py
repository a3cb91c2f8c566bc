"""The tools' dataset layouts for ``convert`` and File > Export: read in place, write anew.

* ``ultralytics``: ``data.yaml`` + ``images/<split>/`` + ``labels/<split>/`` YOLO txt;
* ``voc-devkit``: one VOC year folder, ``JPEGImages/``, ``Annotations/``, ``ImageSets/Main/*.txt``;
* ``coco-dataset``: ``annotations/instances_<split>.json`` + ``<split>/`` image folders.

Reading opens the layout in place (:mod:`~yolo_studio.core.datasets`) and
keeps its split. Writing keeps the source's split (or, for a source
without one, the project's hash split), hard-links the images (copies
where links are impossible) and goes through the output guard: nothing it
did not write is replaced.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import yaml

from ..annotations import ImageAnnotation
from ..atomic import atomic_write_bytes
from ..errors import ConfigError, LabelFileError, Problem
from ..output_guard import OutputFolder, OutputRefused
from .coco import coco_dict
from .dataset import Dataset, Written, _link_image, _not_an_image
from .registry import DatasetFormat, register
from .voc import voc_xml
from .yolo_txt import yolo_files

SPLITS = ("train", "val", "test")


def _read_layout(kind: str, src: Path) -> Dataset:
    from ..datasets.detect import open_layout
    from ..project import Project
    layout = open_layout(kind, Path(src).absolute())
    project = Project(layout.root, dataset=layout)
    anns, problems = project.load_all()
    train, val = project.split()
    splits = {str(p): "train" for p in train} | {str(p): "val" for p in val}
    splits = {Path(p): splits.get(str(p), "test") for p in project.image_paths()}
    return Dataset(anns, list(project.classes), problems, layout.root, splits, layout.images_at_any_depth)


def split_of(ds: Dataset, image: Path) -> str:
    """The image's split in the source, else the project's rule (a hash of its name, a fifth to val)."""
    s = ds.splits.get(Path(image))
    if s in SPLITS:
        return s
    key = Path(image).name.encode("utf-8")
    return "val" if int.from_bytes(hashlib.sha1(key).digest()[:8], "big") / 2.0 ** 64 < 0.2 else "train"


class _Plan:
    """What one layout write puts where; refuses clashes and non-images before anything is written."""

    def __init__(self, ds: Dataset, dst: Path, command: str, overwrite: bool):
        self.guard = OutputFolder(dst, command, overwrite)
        self.dst = self.guard.folder
        _refuse_source_folder(ds, self.dst, command)
        self.ds = ds
        self.problems: list[Problem] = []
        self.items: list[tuple[ImageAnnotation, str, Path, Path]] = []   # ann, split, image, label
        self.files: dict[Path, bytes] = {}

    def add(self, ann: ImageAnnotation, split: str, image: Path, label: Path | None, taken: dict) -> bool:
        why = _not_an_image(Path(ann.image_path))
        key = label or image
        if why or key in taken:
            why = why or f"would be written to {key.name} like {taken[key]}"
            self.problems.append(Problem(str(ann.image_path), f"{why}; its {len(ann.boxes)} box(es) "
                                                              "were not converted"))
            return False
        taken[key] = ann.image_path
        self.items.append((ann, split, image, label))
        return True

    def write(self, labels: dict) -> Written:
        rels = [p.relative_to(self.dst).as_posix() for p in [*labels, *self.files]]
        rels += [img.relative_to(self.dst).as_posix() for _a, _s, img, _l in self.items]
        self.guard.check(rels)
        self.dst.mkdir(parents=True, exist_ok=True)
        try:
            for ann, _s, image, _l in self.items:
                _link_image(ann.image_path, image, self.guard)
            for path, data in [*labels.items(), *self.files.items()]:
                if data is not None:
                    atomic_write_bytes(path, data)
                    self.guard.record(path)
            self.guard.remove_stale()
        finally:
            self.guard.close()
        done = [a for a, *_ in self.items]
        return Written(len(done), sum(len(a.boxes) for a in done), self.problems)


def _refuse_source_folder(ds: Dataset, dst: Path, command: str) -> None:
    """OutputRefused (even with --overwrite) when ``dst`` is the source's root or a folder its
    images come from (or below one, for a source that reads images at any depth: ultralytics):
    the written images would join the dataset being read, and change its split."""
    folders = {os.path.realpath(Path(a.image_path).parent) for a in ds.annotations}
    root = os.path.realpath(ds.image_root) if ds.image_root is not None else None
    out = os.path.realpath(dst)
    below = ds.images_at_any_depth
    hit = [f for f in sorted(folders) if out == f or (below and out.startswith(f.rstrip(os.sep) + os.sep))]
    if out == root or hit:
        raise OutputRefused(f"{dst}: is {'the root' if out == root else 'inside an image folder'} of the "
                            f"source dataset ({root or hit[0]}); {command} never writes into the dataset it "
                            "reads, so choose a folder outside it")


def _label_files(plan: _Plan, make) -> dict:
    """{path: bytes} of every planned image's label; an image whose labels cannot be written is dropped."""
    out = {}
    for item in list(plan.items):
        ann, _s, image, label = item
        try:
            out.update(make(ImageAnnotation(image, ann.width, ann.height, ann.boxes, ann.verified), label))
        except LabelFileError as e:
            plan.problems.append(Problem(str(ann.image_path), f"{e.what}; not converted"))
            plan.items.remove(item)
    return out


def write_ultralytics(ds: Dataset, dst: Path, overwrite=False, command="convert", **_) -> Written:
    """images/<split>/, labels/<split>/ and a data.yaml ultralytics and YOLOv5 accept."""
    plan = _Plan(ds, dst, command, overwrite)
    taken: dict = {}
    for ann in ds.annotations:
        s = split_of(ds, ann.image_path)
        name = Path(ann.image_path).name
        plan.add(ann, s, plan.dst / "images" / s / name,
                 plan.dst / "labels" / s / f"{Path(name).stem}.txt", taken)

    def make(ann, label):
        return {p: d for p, d in yolo_files(ann, label, ds.class_names).items() if d is not None}
    labels = _label_files(plan, make)
    used = {s for _a, s, _i, _l in plan.items}
    val = "images/val" if "val" in used else "images/train"
    if "val" not in used:
        plan.problems.append(Problem(str(plan.dst / "data.yaml"), "no image is in the val split; val "
                                                                  "points at the training images"))
    data = {"path": str(plan.dst), "train": "images/train", "val": val}
    if "test" in used:
        data["test"] = "images/test"
    data["nc"] = len(ds.class_names)
    data["names"] = dict(enumerate(ds.class_names))
    text = "# ultralytics / YOLOv5-v8 dataset written by YOLO Studio\n" + \
        yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    plan.files[plan.dst / "data.yaml"] = text.encode("utf-8")
    return plan.write(labels)


def write_voc_devkit(ds: Dataset, dst: Path, overwrite=False, command="convert", **_) -> Written:
    """One VOC year folder: JPEGImages/, Annotations/ and ImageSets/Main/{train,val,trainval,test}.txt."""
    plan = _Plan(ds, dst, command, overwrite)
    taken: dict = {}
    for ann in ds.annotations:
        name = Path(ann.image_path).name
        plan.add(ann, split_of(ds, ann.image_path), plan.dst / "JPEGImages" / name,
                 plan.dst / "Annotations" / f"{Path(name).stem}.xml", taken)
    labels = _label_files(plan, lambda ann, label: {label: voc_xml(ann, label).encode("utf-8")})
    ids = {s: sorted(Path(i).stem for _a, sp, i, _l in plan.items if sp == s) for s in SPLITS}
    ids["trainval"] = sorted(ids["train"] + ids["val"])
    main = plan.dst / "ImageSets" / "Main"
    for s, names in ids.items():
        if names or s != "test":
            plan.files[main / f"{s}.txt"] = "".join(f"{n}\n" for n in names).encode("utf-8")
    return plan.write(labels)


def write_coco_dataset(ds: Dataset, dst: Path, overwrite=False, command="convert", **_) -> Written:
    """annotations/instances_<split>.json (category ids 1..N in class order) + <split>/ images."""
    plan = _Plan(ds, dst, command, overwrite)
    taken: dict = {}
    for ann in ds.annotations:
        s = split_of(ds, ann.image_path)
        if not (ann.width > 0 and ann.height > 0):
            plan.problems.append(Problem(str(ann.image_path), "image size unknown; not converted"))
            continue
        plan.add(ann, s, plan.dst / s / Path(ann.image_path).name, None, taken)
    for s in sorted({s for _a, s, _i, _l in plan.items}):
        anns = [ImageAnnotation(i, a.width, a.height, a.boxes, a.verified)
                for a, sp, i, _l in plan.items if sp == s]
        try:
            data = coco_dict(anns, ds.class_names, plan.dst / s)
        except KeyError as e:
            raise ConfigError(f"cannot write {s}: {e.args[0]}") from None
        plan.files[plan.dst / "annotations" / f"instances_{s}.json"] = \
            (json.dumps(data, indent=1) + "\n").encode("utf-8")
    return plan.write({})


register(DatasetFormat("ultralytics", "ultralytics / YOLOv5-v8 (data.yaml)", "folder", "folder",
                       lambda src, **_: _read_layout("ultralytics", src), write_ultralytics))
register(DatasetFormat("voc-devkit", "Pascal VOC devkit (JPEGImages, Annotations, ImageSets)",
                       "folder", "folder", lambda src, **_: _read_layout("voc-devkit", src),
                       write_voc_devkit))
register(DatasetFormat("coco-dataset", "COCO dataset (annotations/instances_<split>.json)",
                       "folder", "folder", lambda src, **_: _read_layout("coco", src), write_coco_dataset))
__all__ = ["write_ultralytics", "write_voc_devkit", "write_coco_dataset", "split_of"]
