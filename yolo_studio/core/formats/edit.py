"""In-place edits of label files when a class is renamed or removed.

VOC files are edited as XML trees, so elements we do not model (pose,
occluded, a tool's extras) survive. YOLO files are re-read and re-written
through their reader/writer because class ids shift and the sidecar must follow.
"""
from __future__ import annotations

from pathlib import Path

from ..annotations import ImageAnnotation
from ..atomic import atomic_write_text
from .voc import element_text, parse_voc_tree
from .yolo_txt import read_yolo, write_yolo, yolo_lines


def voc_rename(path: Path, old: str, new: str) -> bool:
    """Rename class ``old`` to ``new`` in one VOC file; True if the file changed."""
    root = parse_voc_tree(path.read_bytes(), path)
    changed = False
    for name in root.iter("name"):
        if (name.text or "").strip() == old:
            name.text = new
            changed = True
    if changed:
        atomic_write_text(path, element_text(root))
    return changed


def voc_remove(path: Path, name: str) -> int:
    """Remove every object of class ``name`` from one VOC file; returns how many."""
    root = parse_voc_tree(path.read_bytes(), path)
    doomed = [o for o in root.findall("object") if (o.findtext("name") or "").strip() == name]
    for o in doomed:
        root.remove(o)
    if doomed:
        atomic_write_text(path, element_text(root))
    return len(doomed)


def voc_count(path: Path, name: str) -> int:
    """How many objects of class ``name`` one VOC file holds."""
    root = parse_voc_tree(path.read_bytes(), path)
    return sum(1 for o in root.iter("object") if (o.findtext("name") or "").strip() == name)


def yolo_relabel(path: Path, size: tuple[int, int], old_classes: list[str], new_classes: list[str],
                 mapping: dict[str, str | None], image_path: Path) -> tuple[bool, int]:
    """Rewrite one YOLO file for a new class list; ``mapping`` renames (or drops, None) labels.

    Returns (file changed, boxes dropped).
    """
    ann = read_yolo(path, size[0], size[1], old_classes, image_path)
    boxes, dropped = [], 0
    for b in ann.boxes:
        label = mapping.get(b.label, b.label)
        if label is None:
            dropped += 1
        else:
            boxes.append(b.moved(label=label))
    new = ImageAnnotation(ann.image_path, ann.width, ann.height, boxes, ann.verified)
    before = path.read_text(encoding="utf-8-sig")
    after = "".join(f"{line}\n" for line in yolo_lines(new, new_classes))
    if after != before or dropped:
        write_yolo(new, path, new_classes)
        return True, dropped
    return False, 0


def yolo_count(path: Path, class_id: int) -> int:
    """How many lines of one YOLO file use ``class_id``."""
    count = 0
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        fields = line.split()
        try:
            count += len(fields) >= 5 and float(fields[0]) == class_id
        except ValueError:
            pass  # a malformed line; load_all reports it
    return count
