"""A Pascal VOC devkit opened in place: ``VOCdevkit/VOC<year>/`` folders side by side.

Each year folder holds ``JPEGImages/<id>.jpg``, ``Annotations/<id>.xml`` and
``ImageSets/Main/{train,val,trainval,test}.txt`` (one image id per line).
VOC2007 and VOC2012 next to each other open as one dataset (the "07+12"
set). The split is the files': ``train.txt`` ids train, ``val.txt`` ids
validate; a year with only ``trainval.txt`` trains on it; ``test.txt`` ids
are in neither. A year without split files is split by a hash of the image
name and says so. Saving edits the image's own XML in place
(the VOC codec's :mod:`~yolo_studio.core.formats.voc_edit`), so devkit elements such as
``<part>``, ``<pose>`` and ``<occluded>`` survive.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from ..errors import ConfigError, Problem
from ..images import is_image_file
from ..project_file import gather_voc_classes
from .base import PerFileLayout, entries

SPLIT_FILES = ("train", "val", "trainval", "test")


def is_year_folder(folder: Path) -> bool:
    """True for a folder with JPEGImages/ and Annotations/ (one VOC year)."""
    return (folder / "JPEGImages").is_dir() and (folder / "Annotations").is_dir()


def year_folders(source: Path) -> list[Path]:
    """The VOC year folders of ``source``: itself, its children, or VOCdevkit's children."""
    if is_year_folder(source):
        return [source]
    for top in (source, source / "VOCdevkit"):
        years = sorted(Path(e.path) for e in entries(top) if e.is_dir() and is_year_folder(Path(e.path)))
        if years:
            return years
    return []


class VocDevkitLayout(PerFileLayout):
    """VOC year folders: VOC XML in Annotations/, the ImageSets/Main split."""

    kind = "voc-devkit"

    def __init__(self, source: Path):
        super().__init__(Path(source).absolute(), "voc")
        self.years = year_folders(self.source)
        if not self.years:
            raise ConfigError(f"{self.source}: no VOC year folder (with JPEGImages/ and Annotations/) found")
        images, train, val = [], [], []
        for year in self.years:
            found = sorted(Path(e.path) for e in entries(year / "JPEGImages") if is_image_file(e.name))
            # 1.jpg beside 1.png: both are listed (the project reports their shared XML), one is by_id's.
            by_id = {p.stem: p for p in reversed(found)}
            images.extend(found)
            t, v = self._year_split(year, by_id)
            train.extend(t)
            val.extend(v)
        self._images = sorted(images, key=str)
        self._train, self._val = sorted(set(train), key=str), sorted(set(val), key=str)
        self.classes = gather_voc_classes(
            (p, self.label_path(p)) for p in self._images if self.label_path(p).is_file())

    def _year_split(self, year: Path, by_id: dict) -> tuple[list[Path], list[Path]]:
        main = year / "ImageSets" / "Main"
        listed: dict[str, list[Path]] = {}
        for name in SPLIT_FILES:
            f = main / f"{name}.txt"
            if f.is_file():
                listed[name] = self._list(f, by_id)
        if not listed:
            self.problems.append(Problem(str(main), "no train.txt, val.txt, trainval.txt or test.txt; "
                                                    "this year's images are split by a hash of their names"))
            ids = sorted(by_id)
            val = [by_id[i] for i in ids if _fraction(f"{year.name}/{i}") < 0.2]
            return [by_id[i] for i in ids if by_id[i] not in set(val)], val
        if "train" in listed or "val" in listed:
            return listed.get("train", []), listed.get("val", [])
        return listed.get("trainval", []), []

    def _list(self, f: Path, by_id: dict) -> list[Path]:
        try:
            text = f.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as e:
            self.problems.append(Problem(str(f), f"cannot be read ({e}); its split is not used"))
            return []
        out = []
        for n, line in enumerate(text.splitlines(), 1):
            fields = line.split()
            if not fields:
                continue
            if fields[0] in by_id:
                out.append(by_id[fields[0]])
            else:
                self.problems.append(Problem(str(f), f"line {n}: image {fields[0]} is not in "
                                                     f"{f.parents[2].name}/JPEGImages; skipped"))
        return out

    def label_path(self, image) -> Path:
        """VOC<year>/Annotations/<id>.xml for VOC<year>/JPEGImages/<id>.jpg."""
        image = Path(image)
        return image.parent.parent / "Annotations" / f"{image.stem}.xml"

    def orphans(self) -> list[Problem]:
        """Annotations/*.xml whose image is not in JPEGImages/."""
        stems = {(p.parent.parent, p.stem) for p in self._images}
        out = []
        for year in self.years:
            for e in entries(year / "Annotations"):
                if e.name.endswith(".xml") and (year, e.name[:-4]) not in stems:
                    out.append(Problem(e.path, "annotation for an image that is not in JPEGImages/; not used"))
        return out

    def class_file_name(self) -> str:
        return "the Annotations/*.xml files"


def _fraction(key: str) -> float:
    return int.from_bytes(hashlib.sha1(key.encode("utf-8")).digest()[:8], "big") / 2.0 ** 64
