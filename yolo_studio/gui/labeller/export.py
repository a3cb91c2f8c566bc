"""File > Export labels as …: the project's labels written in another format."""
from __future__ import annotations

from pathlib import Path

from yolo_studio.core.errors import ConfigError, Problem
from yolo_studio.core.formats.coco import write_coco
from yolo_studio.core.formats.pylessons import write_pylessons
from yolo_studio.core.formats.voc import write_voc
from yolo_studio.core.formats.yolo_txt import CLASSES_FILE, write_classes, write_yolo

EXPORT_FORMATS = {"voc": "Pascal VOC XML (LabelImg)", "yolo": "YOLO txt + classes.txt",
                  "coco": "COCO JSON", "pylessons": "pylessons train list + .names"}


def export_labels(project, fmt: str, out_dir: Path) -> tuple[int, list[Problem]]:
    """Write every labelled image's boxes as ``fmt`` into ``out_dir``; (images, problems)."""
    out_dir = Path(out_dir).absolute()
    if any(out_dir == d.absolute() for d in project.image_dirs):
        # Writing beside the images would mix a second set of label files into the project.
        raise ConfigError(f"{out_dir} holds the project's images; export into another folder")
    anns, problems = project.load_all()
    out_dir.mkdir(parents=True, exist_ok=True)
    classes = list(project.classes)
    if fmt == "voc":
        for ann in anns:
            write_voc(ann, out_dir / f"{ann.image_path.stem}.xml")
    elif fmt == "yolo":
        for ann in anns:
            write_yolo(ann, out_dir / f"{ann.image_path.stem}.txt", classes)
        write_classes(out_dir / CLASSES_FILE, classes)
    elif fmt == "coco":
        write_coco(anns, classes, out_dir / "annotations.json", image_root=project.root)
    elif fmt == "pylessons":
        # Absolute image paths: the list usually lives far from the images.
        write_pylessons(anns, classes, out_dir / "train.txt", absolute=True)
    else:
        raise ConfigError(f"unknown export format {fmt!r} (one of {', '.join(EXPORT_FORMATS)})")
    return len(anns), problems
