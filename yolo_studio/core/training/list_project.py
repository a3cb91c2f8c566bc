"""A pylessons training list (train.txt [+ val.txt] + .names) seen as a project by the trainer."""
from __future__ import annotations

import hashlib
from pathlib import Path

from yolo_studio.core.errors import ConfigError, Problem
from yolo_studio.core.formats.pylessons import names_path_for, read_pylessons
from yolo_studio.core.model_family import AnchorSet, family


class ListProject:
    """A :class:`~yolo_studio.core.training_data.TrainingData` backed by list files.

    Without a val list, a fifth of the images (chosen by a hash of the path,
    so adding lines never moves others) is held out for validation.
    """

    def __init__(self, train_list, names=None, val_list=None, val_fraction: float = 0.2):
        train_list = Path(train_list)
        names = Path(names) if names else names_path_for(train_list)
        if not names.is_file():
            raise ConfigError(f"{names}: class names file not found; pass it with --names")
        self.problems: list[Problem] = []
        train, self.classes = read_pylessons(train_list, names, self.problems.append)
        val = []
        if val_list:
            val, val_names = read_pylessons(Path(val_list), names, self.problems.append)
        self.root = train_list.parent
        self.runs_dir = self.root / "runs"
        self.project_file = train_list
        self.image_dirs: list[Path] = []
        self.anchors = None
        self.anchors_size = 416
        self.train_settings: dict = {}
        self._anns = {Path(a.image_path): a for a in train + val}
        if val_list:
            self._split = ([Path(a.image_path) for a in train], [Path(a.image_path) for a in val])
        else:
            paths = [Path(a.image_path) for a in train]
            held = [p for p in paths if _fraction(p) < val_fraction]
            self._split = ([p for p in paths if p not in set(held)], held)

    def image_paths(self) -> list[Path]:
        """Every image named in the lists."""
        return sorted(self._anns)

    def split(self) -> tuple[list[Path], list[Path]]:
        """(train, val) image paths."""
        return list(self._split[0]), list(self._split[1])

    def has_labels(self, image) -> bool:
        """Every listed image is labelled (a line without boxes is a negative)."""
        return Path(image) in self._anns

    def load_annotation(self, image):
        """The boxes the list gives for ``image``."""
        return self._anns[Path(image)]

    def load_all(self):
        """All annotations and the problems met while reading the lists."""
        return list(self._anns.values()), list(self.problems)

    def box_table(self):
        """None: a list's boxes are already in memory; load_all gives them."""
        return None

    def model_anchors(self, model: str, input_size: int) -> AnchorSet:
        """The model's default (COCO) anchors: a list file carries none of its own."""
        return family(model).default_anchors


def _fraction(path: Path) -> float:
    digest = hashlib.sha1(path.as_posix().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0 ** 64


def open_training_source(path, names=None, val=None):
    """A Project for a folder, or a ListProject for a pylessons ``.txt`` list."""
    p = Path(path)
    if p.is_file() and p.suffix.lower() == ".txt":
        return ListProject(p, names, val)
    if names or val:
        raise ConfigError("--names and --val only apply to a pylessons list (a .txt file) as PROJECT")
    if not p.exists():
        raise ConfigError(f"{p}: project folder not found")
    from yolo_studio.core.project import Project
    return Project.open(p)
