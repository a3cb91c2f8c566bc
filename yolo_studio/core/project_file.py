"""``yolo_studio.json``: its name, version and the checks its values pass when read.

Kept apart from :mod:`yolo_studio.core.project` so the dataset layouts can
share the class-list rules without importing the Project class.
"""
from __future__ import annotations

import re
from pathlib import Path
from xml.sax.saxutils import unescape as xml_unescape

from .class_names import check_class_name, class_name_problem, look_alike
from .errors import ConfigError, LabelFileError
from .formats.registry import codec
from .formats.voc import parse_voc_tree
from .model_family import AnchorSet

PROJECT_FILE = "yolo_studio.json"
# The project file's format version this code reads and writes. A newer file
# is refused rather than opened and silently rewritten without what it added.
PROJECT_VERSION = 1
KNOWN_KEYS = {"version", "classes", "image_dirs", "label_format", "val_fraction", "anchors",
              "anchors_size", "train_settings", "dataset"}
# The class name of each <object> in a VOC file (LabelImg writes <name> first).
_VOC_NAME = re.compile(r"<object>.*?<name>([^<]*)</name>", re.DOTALL)


def check_format(value, key: str) -> str:
    """``value`` if it names a per-image label format, else ConfigError naming ``key``."""
    return codec(value, key).name


def check_classes(classes, key: str) -> list[str]:
    """A class list that follows the class-name rule, no name twice or look-alike."""
    if not isinstance(classes, list):
        raise ConfigError(f"{key} must be a list of class names")
    names = [check_class_name(c, f"{key} entry") for c in classes]
    if len(set(names)) != len(names):
        raise ConfigError(f"{key} lists a class twice: {names}")
    for i, name in enumerate(names):
        twin = look_alike(name, names[:i])
        if twin is not None:
            raise ConfigError(f"{key} lists {twin!r} and {name!r}, which look the same but are different "
                              "texts (other Unicode form or invisible characters); keep one")
    return names


def validated(data: dict, file: Path) -> dict:
    """The Project keyword arguments a project file's content gives; ConfigError naming a bad key."""
    def bad(key, why):
        return ConfigError(f"{file}: '{key}' {why}")
    version = data.get("version", PROJECT_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise bad("version", f"must be a whole number from 1, not {version!r}")
    if version > PROJECT_VERSION:
        raise ConfigError(f"{file}: written by a newer YOLO Studio (file version {version}; this one "
                          f"reads version {PROJECT_VERSION}). Update YOLO Studio to open it; it is "
                          "left as it is")
    classes = check_classes(data.get("classes", []), f"{file}: 'classes'")
    dataset = data.get("dataset")
    if dataset is not None and not (isinstance(dataset, dict) and isinstance(dataset.get("path"), str)
                                    and isinstance(dataset.get("layout"), str)):
        raise bad("dataset", 'must be {"layout": ..., "path": ...} (the dataset this project opens in place)')
    fmt = data.get("label_format", "voc")
    if dataset is None:
        fmt = check_format(fmt, f"{file}: 'label_format'")
    vf = data.get("val_fraction", 0.2)
    if isinstance(vf, bool) or not isinstance(vf, (int, float)) or not 0 <= vf < 1:
        raise bad("val_fraction", f"must be a number from 0 to below 1, not {vf!r}")
    size = data.get("anchors_size", 416)
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise bad("anchors_size", f"must be a positive whole number, not {size!r}")
    dirs = data.get("image_dirs") or ["images"]
    if not isinstance(dirs, list) or not all(isinstance(d, str) for d in dirs):
        raise bad("image_dirs", "must be a list of folder paths")
    settings = data.get("train_settings") or {}
    if not isinstance(settings, dict):
        raise bad("train_settings", "must be an object")
    return dict(classes=classes, image_dirs=dirs, label_format=fmt, val_fraction=float(vf),
                anchors=_validated_anchors(data.get("anchors"), bad), anchors_size=size,
                train_settings=settings)


def _validated_anchors(anchors, bad):
    if anchors is None:
        return None
    try:
        return [list(g) for g in AnchorSet.parse(anchors)]
    except ConfigError as e:
        raise bad("anchors", f"must be a list of groups of [w, h] pairs with finite, positive sizes, "
                             f"or null ({e})") from None


def gather_voc_classes(labelled) -> list[str]:
    """The sorted class names the VOC files of ``labelled`` ((image, label) pairs) use.

    Only the names are needed, and parsing 10,000 XML files was most of the
    time to open a labelled folder: a regex over the raw text is ~10x
    cheaper. A file the regex cannot vouch for (not UTF-8, a DOCTYPE or
    entity, a name that breaks the class-name rule) is parsed properly, and
    gives no names if it is refused or malformed.
    """
    seen: set[str] = set()
    for _image, label in labelled:
        try:
            data = label.read_bytes()
        except OSError:
            continue  # load_all reports it
        seen.update(voc_class_names(data, label))
    return sorted(seen)  # sorted: adding a file never reorders (renumbers) classes


def voc_class_names(data: bytes, label: Path) -> set[str]:
    """The class names one VOC file uses; none from a file that is refused or malformed."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and "<!" not in text:
        names = {xml_unescape(m.strip()) for m in _VOC_NAME.findall(text)}
        if all("&" not in n and not class_name_problem(n) for n in names):
            return names
    try:
        root = parse_voc_tree(data, label)
    except LabelFileError:
        return set()  # load_all reports it
    names = {(o.findtext("name") or "").strip() for o in root.iter("object")}
    return {n for n in names if not class_name_problem(n)}
