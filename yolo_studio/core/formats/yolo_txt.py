"""YOLO txt labels (darknet / ultralytics): one ``<image stem>.txt`` per image.

Each line is ``class_id cx cy w h``, normalised to the image size; class ids
index ``classes.txt`` (one name per line). A 6th field (a confidence, as
ultralytics writes for predictions) is accepted and read as the score.

The format cannot hold LabelImg's verified flag, VOC's difficult flag, or
whether a box is a model's pre-label and its score. So nothing is lost, those
go in a small hidden sidecar next to the txt, ``.<stem>.yolo_studio.json``:
``{"verified": true, "boxes": [{"line": "<the txt line>", "predicted": true,
"score": 0.87, "difficult": false}, ...]}``. Boxes are matched to their line
by its exact text, so a txt edited by another tool keeps what still matches.
The sidecar is written only when it has something to say, and other tools
ignore it. It also holds ``"txt_sha1"``, the hash of the txt it was written
with: a txt changed since (by another tool, or a save killed between the two
writes) keeps its per-line extras, but its ``verified`` flag is not trusted.

A line whose box cannot be used (cx > 1, negative w: wholly outside or empty)
is kept: it goes to ``ImageAnnotation.hidden`` and is written back unchanged.
"""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

from ..annotations import Box, HiddenBox, ImageAnnotation
from ..atomic import atomic_write_bytes, atomic_write_text
from ..class_names import check_class_name, class_name_problem
from ..errors import LabelFileError, Problem
from .checks import Report, box_name, fit_box, parse_float, read_text, unknown_class

EXTENSION = ".txt"
CLASSES_FILE = "classes.txt"


def read_classes(path: str | Path) -> list[str]:
    """Class names, one per non-empty line (classes.txt or a darknet .names file)."""
    path = Path(path)
    text = read_text(path)
    names = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            why = class_name_problem(line.strip())
            if why:
                raise LabelFileError(path, f"line {n} {line.strip()!r}: {why}")
            names.append(line.strip())
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise LabelFileError(path, f"class names appear twice: {', '.join(dupes)}")
    return names


def classes_text(names: list[str]) -> str:
    """classes.txt's content; ConfigError for a name that could not be read back as it is."""
    return "".join(f"{check_class_name(n)}\n" for n in names)


def write_classes(path: str | Path, names: list[str]) -> None:
    """Write class names one per line, atomically."""
    atomic_write_text(path, classes_text(names))


def sidecar_path(txt_path: str | Path) -> Path:
    """The hidden file that keeps what YOLO txt cannot hold for ``txt_path``."""
    txt_path = Path(txt_path)
    return txt_path.parent / f".{txt_path.stem}.yolo_studio.json"


def read_yolo(path: str | Path, width: int, height: int, class_names: list[str],
              image_path: str | Path | None = None, report: Report = None) -> ImageAnnotation:
    """Read a YOLO txt label for an image of (width, height); LabelFileError if malformed."""
    path = Path(path)
    if width <= 0 or height <= 0:
        raise LabelFileError(path, "image size unknown: YOLO coordinates are relative to it")
    try:
        data = path.read_bytes()
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LabelFileError(path, "is not UTF-8 text") from None
    except OSError as e:
        raise LabelFileError(path, f"cannot be read ({e.strerror or e})") from None
    notes: list[str] = []
    meta = _read_sidecar(path, data, notes)
    boxes, hidden = [], []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        box = _parse_line(line, n, path, width, height, class_names, report)
        if box is None:
            continue
        box = _apply_meta(box, meta, line.strip()).moved(ref=line.strip())   # see yolo_lines
        fitted, why = fit_box(box, width, height)
        if why:
            notes.append(f"line {n}: {box_name(n, box)} {why}" + ("" if fitted else " (kept in the file)"))
        if fitted is None:
            hidden.append(HiddenBox(line, notes[-1], box.label))
        else:
            boxes.append(fitted)
    for note in notes:
        if report is not None:
            report(Problem(str(path), note))
    image_path = Path(image_path) if image_path is not None else path.with_suffix(".jpg")
    return ImageAnnotation(image_path, width, height, boxes, bool(meta.get("verified", False)),
                           hidden, notes)


def _parse_line(line: str, n: int, path: Path, width: int, height: int,
                class_names: list[str], report: Report) -> Box | None:
    fields = line.split()
    if len(fields) not in (5, 6):
        polygon = len(fields) >= 7 and len(fields) % 2 == 1
        raise LabelFileError(path, f"line {n} has {len(fields)} fields, expected 5 (class_id cx cy w h)"
                                   + (", not a segmentation polygon (class_id x1 y1 x2 y2 ...): YOLO Studio "
                                      "labels boxes, so this file is left as it is" if polygon else "")
                                   + f": {line.strip()[:80]!r}")
    cid = parse_float(fields[0], path, f"line {n} class id")
    if cid != int(cid) or cid < 0:
        raise LabelFileError(path, f"line {n}: class id {fields[0]!r} is not a whole number >= 0")
    cid = int(cid)
    cx, cy, w, h = (parse_float(v, path, f"line {n} {k}") for v, k in zip(fields[1:5], ("cx", "cy", "w", "h")))
    score = parse_float(fields[5], path, f"line {n} confidence") if len(fields) == 6 else None
    if cid >= len(class_names):
        unknown_class(path, report, f"line {n}: class id {cid} is not in {CLASSES_FILE} "
                                    f"({len(class_names)} classes); add the missing names there")
        return None
    return Box((cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width,
               (cy + h / 2) * height, class_names[cid], predicted=score is not None, score=score)


def _read_sidecar(path: Path, txt: bytes, notes: list[str]) -> dict:
    side = sidecar_path(path)
    if not side.exists():
        return {}
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
        if not isinstance(meta, dict) or not isinstance(meta.get("boxes", []), list):
            raise ValueError("not an object with a 'boxes' list")
    except (OSError, ValueError) as e:
        notes.append(f"{side.name} ignored: cannot be read ({e})")
        return {}
    meta["boxes"] = list(meta.get("boxes", []))
    stamp = meta.get("txt_sha1")
    if stamp is not None and stamp != txt_hash(txt) and meta.get("verified"):
        notes.append(f"{side.name} was written for another version of this file, so its "
                     "'verified' mark is not trusted; check the image and verify it again")
        meta["verified"] = False
    return meta


def txt_hash(data: bytes) -> str:
    """The hash a sidecar keeps of the txt it belongs to."""
    return hashlib.sha1(data).hexdigest()


def _apply_meta(box: Box, meta: dict, line: str) -> Box:
    for i, entry in enumerate(meta.get("boxes", [])):
        if isinstance(entry, dict) and entry.get("line") == line:
            del meta["boxes"][i]
            score = entry.get("score", box.score)
            return box.moved(difficult=bool(entry.get("difficult", False)),
                             predicted=bool(entry.get("predicted", box.predicted)),
                             score=float(score) if isinstance(score, (int, float)) else None)
    return box


def yolo_lines(ann: ImageAnnotation, class_names: list[str]) -> list[str]:
    """One ``class cx cy w h`` line per box (LabelFileError naming a class not in ``class_names``)."""
    index = {n: i for i, n in enumerate(class_names)}
    w, h = float(ann.width), float(ann.height)
    if w <= 0 or h <= 0:
        raise LabelFileError(ann.image_path, "image size unknown: cannot write YOLO coordinates")
    lines = []
    for i, b in enumerate(ann.boxes, 1):
        if not all(math.isfinite(v) for v in b.xyxy()):
            raise LabelFileError(ann.image_path, f"{box_name(i, b)} has a number that is not finite; "
                                                 "not written")
        if b.label not in index:
            raise LabelFileError(ann.image_path, f"class {b.label!r} is not in the class list "
                                                 f"({', '.join(class_names)}); not written")
        if _reads_as(b.ref, b, ann, class_names):
            lines.append(b.ref)      # nobody edited it: its line as written (not clipped, not reformatted)
            continue
        # 7 decimals keep a 10,000 px image within 1/1000 px.
        lines.append(f"{index[b.label]} {(b.x1 + b.x2) / 2 / w:.7f} {(b.y1 + b.y2) / 2 / h:.7f} "
                     f"{b.width / w:.7f} {b.height / h:.7f}")
    return lines


def _reads_as(line, b: Box, ann: ImageAnnotation, class_names: list[str]) -> bool:
    """True when ``line`` (the text ``b`` was read from, if any) reads back as ``b`` here."""
    if not isinstance(line, str):
        return False
    try:
        again = _parse_line(line, 0, Path(ann.image_path), int(ann.width), int(ann.height), class_names, None)
    except LabelFileError:
        return False
    fitted = fit_box(again, ann.width, ann.height)[0] if again is not None else None
    return fitted is not None and fitted.xyxy() == b.xyxy() and fitted.label == b.label \
        and (fitted.score == b.score or len(line.split()) == 5)


def yolo_files(ann: ImageAnnotation, path: str | Path, class_names: list[str]) -> dict:
    """What saving ``ann`` at ``path`` writes: {txt: bytes, sidecar: bytes or None (delete)}.

    Hidden lines (``ann.hidden``) are written back unchanged after the boxes.
    """
    path = Path(path)
    lines = yolo_lines(ann, class_names)
    extras = [{"line": line, "difficult": b.difficult, "predicted": b.predicted, "score": b.score}
              for line, b in zip(lines, ann.boxes) if b.difficult or b.predicted or b.score is not None]
    bom, newline = _style_of(path)
    txt = (bom + "".join(f"{line}{newline}" for line in [*lines, *(h.raw for h in ann.hidden)])).encode("utf-8")
    side = sidecar_path(path)
    out: dict = {path: txt}
    if ann.verified or extras:
        meta = {"verified": ann.verified, "boxes": extras, "txt_sha1": txt_hash(txt)}
        out[side] = (json.dumps(meta, indent=1) + "\n").encode("utf-8")
    elif side.exists():
        out[side] = None  # stale: the label it described is being replaced
    return out


def _style_of(path: Path) -> tuple[str, str]:
    """(BOM, line ending) of the label file already at ``path``: an edit keeps the file's own
    (a Windows tool's CRLF file must not turn LF on every line because one box moved)."""
    try:
        with open(path, "rb") as f:
            head = f.read(65536)
    except OSError:
        return "", "\n"
    bom = "\ufeff" if head.startswith(b"\xef\xbb\xbf") else ""
    first = head.find(b"\n")
    return bom, "\r\n" if first > 0 and head[first - 1:first] == b"\r" else "\n"


def write_yolo(ann: ImageAnnotation, path: str | Path, class_names: list[str]) -> None:
    """Save ``ann`` as YOLO txt at ``path`` (plus its sidecar when needed), atomically.

    The txt goes first: a crash before the sidecar follows leaves a sidecar
    whose hash does not match, so its verified mark is not trusted. (A project
    writes both in one journalled step instead; see Project.save_annotation.)
    """
    for file, data in yolo_files(ann, path, class_names).items():
        if data is None:
            file.unlink(missing_ok=True)
        else:
            atomic_write_bytes(file, data)
