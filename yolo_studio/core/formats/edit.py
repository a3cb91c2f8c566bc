"""Edits of label files when a class is renamed or removed, computed without writing.

The project writes every edited file, classes.txt and its own file in one
journalled step (``atomic.write_together``), so a class operation either
lands everywhere or nowhere.

VOC files are edited as XML trees, so elements we do not model (pose,
occluded, a tool's extras) survive. YOLO files are edited at the level of
class ids, line by line, without reading the boxes: a file whose image is
missing or unreadable, or whose boxes are bad, still has ids whose meaning
classes.txt gives, and those ids must follow the new class list. A line that
is not a label line at all (wrong number of fields, no whole class id) blocks
the operation: the project then names the file and changes nothing.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Callable, Optional

from ..errors import LabelFileError
from .voc import edited_bytes, parse_voc_tree
from .yolo_txt import txt_hash

IdMap = Callable[[int], Optional[int]]   # old class id -> new id, or None: the line goes
_FIRST_FIELD = re.compile(r"^(\s*)(\S+)(.*)$", re.DOTALL)


def voc_relabel(path: Path, data: bytes, old: str, new: str | None) -> tuple[bytes | None, int]:
    """One VOC file with class ``old`` renamed to ``new`` (or its objects removed, ``new`` None).

    Returns (the new content, or None if nothing changes; objects renamed or removed).
    LabelFileError if the file cannot be parsed.
    """
    root = parse_voc_tree(data, path, keep_comments=True)
    count = 0
    if new is None:
        for parent in [root, *root.iter()]:
            doomed = [o for o in parent.findall("object") if (o.findtext("name") or "").strip() == old]
            for o in doomed:
                parent.remove(o)
            count += len(doomed)
    else:
        for obj in root.iter("object"):
            name = obj.find("name")
            if name is not None and (name.text or "").strip() == old:
                name.text = new
                count += 1
    return (edited_bytes(data, root) if count else None), count


def voc_count(path: Path, name: str) -> int:
    """How many objects of class ``name`` one VOC file holds."""
    root = parse_voc_tree(path.read_bytes(), path)
    return sum(1 for o in root.iter("object") if (o.findtext("name") or "").strip() == name)


def yolo_relabel_line(line: str, id_map: IdMap, path: Path, n: int) -> str | None:
    """``line`` with its class id mapped (None if the line goes); LabelFileError if the id is unreadable."""
    m = _FIRST_FIELD.match(line)
    if m is None:
        return line  # blank
    lead, first, rest = m.groups()
    fields = len(line.split())
    if fields not in (5, 6):
        # Not a label line we know: what its first number means is a guess, and a guess could relabel.
        raise LabelFileError(path, f"line {n} has {fields} fields, expected 5 (class_id cx cy w h) "
                                   f"or 6 (with a score): {line.strip()!r}; fix or remove that line")
    try:
        value = float(first)
    except ValueError:
        value = float("nan")
    if not (math.isfinite(value) and value >= 0 and value == int(value)):
        raise LabelFileError(path, f"line {n}: class id {first!r} is not a whole number >= 0, so "
                                   "it cannot be renumbered; fix or remove that line")
    new = id_map(int(value))
    if new is None:
        return None
    return line if new == int(value) else f"{lead}{new}{rest}"


def yolo_relabel(path: Path, data: bytes, id_map: IdMap) -> tuple[bytes | None, int, dict]:
    """One YOLO txt with class ids mapped; (new content or None if unchanged, lines dropped, line map).

    The line map takes each old line (stripped) to its new one (None: dropped),
    for the sidecar. LabelFileError if the file is not UTF-8 or a class id cannot be read.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LabelFileError(path, "is not UTF-8 text, so its class ids cannot be renumbered") from None
    out, dropped, line_map = [], 0, {}
    for n, line in enumerate(text.splitlines(keepends=True), 1):
        body = line.rstrip("\r\n")
        if not body.strip():
            out.append(line)
            continue
        new = yolo_relabel_line(body, id_map, path, n)
        line_map[body.strip()] = None if new is None else new.strip()
        if new is None:
            dropped += 1
        else:
            out.append(new + line[len(body):])
    after = "".join(out)
    return (None if after == text else after.encode("utf-8")), dropped, line_map


def yolo_sidecar_relabel(side: bytes, old_txt: bytes, new_txt: bytes, line_map: dict) -> bytes | None:
    """A sidecar's content following its txt's renumbered lines; None if it cannot be read (left alone)."""
    try:
        meta = json.loads(side.decode("utf-8"))
        entries = meta["boxes"] if isinstance(meta, dict) else None
    except (ValueError, KeyError):
        return None
    if not isinstance(entries, list):
        return None
    kept = []
    for e in entries:
        if isinstance(e, dict) and e.get("line") in line_map:
            if line_map[e["line"]] is None:
                continue
            e = {**e, "line": line_map[e["line"]]}
        kept.append(e)
    meta["boxes"] = kept
    # Re-stamp only a sidecar that matched its txt: one that did not stays untrusted.
    if meta.get("txt_sha1") == txt_hash(old_txt):
        meta["txt_sha1"] = txt_hash(new_txt)
    return (json.dumps(meta, indent=1) + "\n").encode("utf-8")


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
