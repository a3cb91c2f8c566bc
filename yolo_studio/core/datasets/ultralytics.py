"""An ultralytics / YOLOv5-v8 dataset opened in place from its ``data.yaml``.

``data.yaml`` keys: ``path`` (the dataset root, relative to the yaml's
folder here), ``train`` / ``val`` / ``test`` (each a folder of images, a
``.txt`` list of image paths, or a list of those), ``names`` (a list, or a
dict ``{id: name}``) and ``nc``. Each image's labels are YOLO txt at the
path ultralytics derives: the last ``/images/`` of the image path becomes
``/labels/`` and the suffix ``.txt`` (an image path without ``/images/``
keeps its label beside it). The split is the one the file gives; test
images can be labelled but are in neither train nor val.

Bad input is reported by file and line and the rest opens: a missing split,
a list line naming an absent image, a path that leaves the yaml's folder
(never followed), ``nc`` disagreeing with ``names``, label files for images
no split lists.
"""
from __future__ import annotations

import os
from pathlib import Path

import yaml

from ..class_names import class_name_problem
from ..errors import ConfigError, Problem
from ..images import is_image_file
from .base import PerFileLayout, entries, images_below, inside

SPLIT_KEYS = ("train", "val", "test")


def read_data_yaml(path: Path) -> tuple[dict, dict]:
    """(the yaml's top-level mapping, {key: line number}); ConfigError if it is not one."""
    try:
        text = path.read_text(encoding="utf-8-sig")
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot be read ({e})") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({e})") from None
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{path}: not an ultralytics data.yaml (expected keys train, val, names)")
    lines = {k.value: k.start_mark.line + 1 for k, _v in node.value if isinstance(k, yaml.ScalarNode)}
    return data, lines


def yaml_names(data: dict, path: Path, lines: dict, problems: list | None = None) -> list[str]:
    """The class names of a data.yaml (``names`` as a list or an {id: name} dict)."""
    names = data.get("names")
    where = f"{path}: line {lines.get('names', '?')}: names"
    if isinstance(names, dict):
        ids = sorted(names, key=lambda k: (not isinstance(k, int), k))
        if ids != list(range(len(ids))):
            raise ConfigError(f"{where} must number the classes 0, 1, 2, ... without gaps, not {ids}")
        names = [names[i] for i in ids]
    if not isinstance(names, list):
        raise ConfigError(f"{where} is missing or not a list of class names")
    for i, n in enumerate(names):
        # null, a list (an alias bomb's is 9^8 items as text), or YAML 1.1's yes/no read as a bool
        if isinstance(n, bool) or not isinstance(n, (str, int, float)):
            raise ConfigError(f"{where}: class {i} is {_kind(n)}, not a name (quote it if it is one)")
    names = [str(n) for n in names]
    for i, n in enumerate(names):
        why = class_name_problem(n)
        if why:
            raise ConfigError(f"{where}: class {i} {n!r}: {why}")
    if len(set(names)) != len(names):
        raise ConfigError(f"{where} lists a class twice")
    nc = data.get("nc")
    if nc is not None and nc != len(names) and problems is not None:
        shown = nc if isinstance(nc, (int, float)) else _kind(nc)
        problems.append(Problem(str(path), f"line {lines.get('nc', '?')}: nc is {shown} but names lists "
                                           f"{len(names)} classes; the names are used"))
    return names


def _kind(value) -> str:
    """What a YAML value is, in a few words (never the value itself: it may be huge)."""
    return "empty (null)" if value is None else f"a {type(value).__name__}"


def label_path_of(image: Path) -> Path:
    """ultralytics' label path of ``image`` (its img2label_paths rule)."""
    s = str(image)
    sa, sb = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    head, dot, _ext = sb.join(s.rsplit(sa, 1)).rpartition(".")
    return Path(head + ".txt") if dot else Path(s + ".txt")


class UltralyticsLayout(PerFileLayout):
    """A data.yaml dataset: YOLO txt labels in ``labels/<split>/``, the yaml's split."""

    kind = "ultralytics"
    images_at_any_depth = True

    def __init__(self, yaml_path: Path):
        yaml_path = Path(yaml_path).absolute()
        if yaml_path.is_dir():
            from .detect import data_yamls
            found = data_yamls(yaml_path)
            if not found:
                raise ConfigError(f"{yaml_path}: no data.yaml found (an ultralytics dataset needs one)")
            yaml_path = found[0]
        super().__init__(yaml_path, "yolo")
        data, self._lines = read_data_yaml(self.source)
        self.classes = yaml_names(data, self.source, self._lines, self.problems)
        self.base = self._base(data.get("path"))
        splits: dict[str, list[Path]] = {}
        for key in SPLIT_KEYS:
            value = data.get(key)
            if value in (None, "", []):
                if key != "test":
                    self._say(key, f"{key} is not given; no images are in the {key} split")
                continue
            found: list[str] = []
            for entry in value if isinstance(value, list) else [value]:
                if isinstance(entry, (str, int, float)) and not isinstance(entry, bool):
                    found.extend(self._split_images(str(entry), key))
                else:
                    self._say(key, f"{key}: an entry is {_kind(entry)}, not a path; it is not used")
            splits[key] = sorted({os.path.normpath(p) for p in found})
        self._train = [Path(p) for p in splits.get("train", [])]
        self._val = [Path(p) for p in splits.get("val", [])]
        every = sorted({p for v in splits.values() for p in v})
        self._images = [Path(p) for p in every]
        self._check_class_files()
        both = set(splits.get("train", [])) & set(splits.get("val", []))
        if both:
            self._say("val", f"{len(both)} image(s) are in both train and val (first: {min(both)}); "
                             "validation on training images overstates the model")

    def _say(self, key: str, message: str) -> None:
        self.problems.append(Problem(str(self.source), f"line {self._lines.get(key, '?')}: {message}"))

    def _base(self, path) -> Path:
        folder = self.source.parent
        if path in (None, ""):
            return folder
        if not isinstance(path, str):
            self._say("path", f"path is {_kind(path)}, not a folder; the yaml's own folder is used")
            return folder
        base = Path(os.path.normpath(folder / str(path)))
        if not inside(base, folder):
            self._say("path", f"path {path!r} leaves the folder of {self.source.name}; it is not "
                              f"followed, and the yaml's own folder is used")
            return folder
        if not base.is_dir():
            self._say("path", f"path {path!r}: folder {base} not found; the yaml's own folder is used")
            return folder
        return base

    def _split_images(self, entry: str, key: str) -> list[str]:
        target = Path(os.path.normpath(self.base / entry))
        if not inside(target, self.source.parent):
            self._say(key, f"{key}: {entry!r} leaves the folder of {self.source.name}; not followed, "
                           "so its images are not used")
            return []
        if target.is_dir():
            return images_below(target)
        if target.is_file() and target.suffix.lower() == ".txt":
            return self._list_file(target)
        if target.is_file() and is_image_file(target.name):
            return [str(target)]
        self._say(key, f"{key}: {entry!r} ({target}) not found; its images are not used")
        return []

    def _list_file(self, listing: Path) -> list[str]:
        try:
            text = listing.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as e:
            self.problems.append(Problem(str(listing), f"cannot be read ({e}); its images are not used"))
            return []
        found, folder = [], listing.parent
        for n, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line:
                continue
            image = os.path.normpath(line if os.path.isabs(line) else folder / line)
            if not inside(Path(image), self.source.parent):
                self.problems.append(Problem(str(listing), f"line {n}: {line} leaves the dataset folder; "
                                                           "not used"))
            elif not os.path.isfile(image):
                self.problems.append(Problem(str(listing), f"line {n}: image {line} not found; skipped"))
            else:
                found.append(image)
        return found

    def _check_class_files(self) -> None:
        """A classes.txt in a label folder (LabelImg writes one) that disagrees with names is reported."""
        from ..formats.yolo_txt import read_classes
        from ..errors import LabelFileError
        for folder in sorted({label_path_of(p).parent for p in self._images}):
            side = folder / "classes.txt"
            if not side.is_file():
                continue
            try:
                names = read_classes(side)
            except LabelFileError as e:
                self.problems.append(Problem(str(side), f"{e.what}; ignored (data.yaml's names are used)"))
                continue
            if names != self.classes:
                self.problems.append(Problem(str(side), f"line 1: lists {', '.join(names)}, but {self.source.name} "
                                                        f"names {', '.join(self.classes)}; data.yaml's names are used"))

    def label_path(self, image) -> Path:
        """labels/<split>/<stem>.txt for images/<split>/<stem>.<ext>."""
        return label_path_of(Path(image))

    def classes_on_disk(self) -> list[str]:
        """names as data.yaml says them now."""
        data, lines = read_data_yaml(self.source)
        return yaml_names(data, self.source, lines)

    def orphans(self) -> list[Problem]:
        """YOLO txt files in the label folders whose image no split lists."""
        labels = {str(label_path_of(p)) for p in self._images}
        folders = {os.path.dirname(p) for p in labels}
        out = []
        for folder in sorted(folders):
            for e in entries(Path(folder)):
                if e.name.endswith(".txt") and e.name != "classes.txt" and e.path not in labels:
                    out.append(Problem(e.path, "label file for an image that no split of "
                                               f"{self.source.name} lists; not used"))
        return out
