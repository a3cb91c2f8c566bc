"""Pascal VOC XML, exactly as LabelImg writes it (one .xml per image).

Layout: <annotation [verified="yes"]> folder, filename, path, source/database,
size/width/height/depth, segmented, then one <object> per box with name,
pose, truncated, difficult and bndbox/xmin,ymin,xmax,ymax. LabelImg writes
integer pixels (the format's rounding); we read floats too.

Boxes a model wrote carry two extra children of <object>, <predicted>1</predicted>
and <score>0.87</score>, which LabelImg and other VOC readers ignore, so
pre-labels survive a save/load round trip.

<path> holds the image path relative to the XML (LabelImg writes an absolute
one and never reads it back): a project folder stays valid when moved.
"""
from __future__ import annotations

import math
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from ..annotations import Box, HiddenBox, ImageAnnotation
from ..atomic import atomic_write_text
from ..class_names import check_class_name, class_name_problem
from ..errors import ConfigError, LabelFileError, Problem
from .checks import Report, box_name, fit_box, parse_float

EXTENSION = ".xml"
# Larger than any image a decoder accepts: a <size> beyond it is a typo or a lie.
_MAX_SIDE = 1 << 20
# Characters XML 1.0 cannot hold (and lone surrogates, which UTF-8 cannot encode).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def parse_voc_tree(data: bytes, path: Path, keep_comments: bool = False) -> Element:
    """Parse XML bytes safely: external entities, DTD entities and entity bombs are refused.

    ``keep_comments`` keeps comments and processing instructions in the tree (for editing a file).
    """
    try:
        parser = DET.DefusedXMLParser(target=ET.TreeBuilder(insert_comments=keep_comments,
                                                            insert_pis=keep_comments),
                                      forbid_dtd=False, forbid_entities=True, forbid_external=True)
        parser.feed(data)
        root = parser.close()
    except DefusedXmlException as e:
        raise LabelFileError(path, f"refused: the XML declares entities or external references "
                                   f"({type(e).__name__}); remove the DOCTYPE") from None
    except ParseError as e:
        raise LabelFileError(path, f"malformed XML ({e})") from None
    if root.tag != "annotation":
        raise LabelFileError(path, f"not a Pascal VOC file: root element is <{root.tag}>, "
                                   "expected <annotation>")
    return root


def read_voc(path: str | Path, image_path: str | Path | None = None,
             report: Report = None) -> ImageAnnotation:
    """Read a VOC XML file; LabelFileError if it is unreadable or malformed."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise LabelFileError(path, f"cannot be read ({e.strerror or e})") from None
    return parse_voc(data, path, image_path, report)


def parse_voc(data: bytes, path: Path, image_path: str | Path | None = None,
              report: Report = None, size: tuple[int, int] | None = None) -> ImageAnnotation:
    """Parse VOC XML bytes read from ``path`` (``image_path`` defaults to <filename> next to it).

    ``size``, the image's real (width, height) when known, wins over <size>.
    Boxes that cannot be used go to ``hidden`` (kept on disk by every save)
    and every problem found goes to ``notes`` and to ``report``.
    """
    root = parse_voc_tree(data, path)
    if image_path is None:
        name = (root.findtext("filename") or "").strip()
        image_path = path.parent / name if name else path.with_suffix(".jpg")
    notes: list[str] = []
    width, height = _size_field(root, "width", path, notes), _size_field(root, "height", path, notes)
    if size is not None and size[0] > 0 and size[1] > 0:
        if (width, height) not in ((0, 0), tuple(size)) and width > 0 and height > 0:
            notes.append(f"<size> says {width}x{height} but the image is {size[0]}x{size[1]}; "
                         "using the image's size")
        width, height = int(size[0]), int(size[1])
    boxes, hidden = [], []
    for i, obj in enumerate(root.iter("object"), 1):
        box = _read_object(obj, i, path).moved(ref=i - 1)
        fitted, why = None, class_name_problem(box.label)
        if why:
            why = f"has a class name that cannot be used ({why}); skipped"
        else:
            fitted, why = fit_box(box, width, height)
        if why:
            notes.append(f"{box_name(i, box)} {why}" + ("" if fitted else " (kept in the file)"))
        if fitted is None:
            hidden.append(HiddenBox(_raw_object(obj), notes[-1], box.label))
        else:
            boxes.append(fitted)
    for note in notes:
        if report is not None:
            report(Problem(str(path), note))
    verified = root.get("verified", "").strip().lower() in ("yes", "true", "1")
    return ImageAnnotation(Path(image_path), width, height, boxes, verified, hidden, notes)


def _raw_object(obj: Element) -> str:
    """The XML of one <object>, to write back as it was (without the text after it)."""
    tail, obj.tail = obj.tail, None
    try:
        # A literal CR in parsed text came from "&#13;" (parsers turn line ends into LF):
        # keep it escaped, or the next read would turn it into LF.
        return ET.tostring(obj, encoding="unicode").strip().replace("\r", "&#13;")
    finally:
        obj.tail = tail


def _size_field(root: Element, name: str, path: Path, notes: list[str]) -> int:
    text = root.findtext(f"size/{name}")
    if text is None or not text.strip():
        return 0  # some tools omit <size>: the caller takes it from the image
    try:
        value = parse_float(text, path, f"<size><{name}>")
    except LabelFileError as e:
        value = -1.0
        why = e.what
    else:
        why = f"<size><{name}> is {text.strip()!r}"
    if value < 0 or value > _MAX_SIDE:
        notes.append(f"{why}; the image's own size is used")
        return 0
    return int(round(value))


def _read_object(obj: Element, i: int, path: Path) -> Box:
    name = (obj.findtext("name") or "").strip()
    if not name:
        raise LabelFileError(path, f"<object> {i} has no <name>")
    bnd = obj.find("bndbox")
    if bnd is None:
        raise LabelFileError(path, f"<object> {i} ({name!r}) has no <bndbox>")
    coords = []
    for tag in ("xmin", "ymin", "xmax", "ymax"):
        text = bnd.findtext(tag)
        if text is None:
            raise LabelFileError(path, f"<object> {i} ({name!r}) has no <{tag}>")
        coords.append(parse_float(text, path, f"<object> {i} <{tag}>"))
    difficult = _flag(obj.findtext("difficult"))
    predicted = _flag(obj.findtext("predicted"))
    score_text = obj.findtext("score")
    score = parse_float(score_text, path, f"<object> {i} <score>") if score_text else None
    return Box(*coords, label=name, difficult=difficult, predicted=predicted, score=score)


def _flag(text: str | None) -> bool:
    text = (text or "").strip().lower()
    if text in ("true", "yes"):
        return True
    try:
        return float(text) != 0
    except ValueError:
        return False


def voc_xml(ann: ImageAnnotation, xml_path: str | Path) -> str:
    """The VOC XML text LabelImg would write for ``ann`` (saved at ``xml_path``).

    Hidden boxes (``ann.hidden``) are written back exactly as they were read.
    A box that would make the file unreadable (a refused class name, a
    non-finite number) raises instead: a writer never writes what it cannot read.
    """
    xml_path = Path(xml_path)
    image = Path(ann.image_path)
    rel = _relative(image, xml_path.parent)
    head = '<annotation verified="yes">' if ann.verified else "<annotation>"
    lines = [head,
             f"\t<folder>{_text(image.parent.name)}</folder>",
             f"\t<filename>{_text(image.name)}</filename>",
             f"\t<path>{_text(rel)}</path>",
             "\t<source>", "\t\t<database>Unknown</database>", "\t</source>",
             "\t<size>", f"\t\t<width>{int(ann.width)}</width>",
             f"\t\t<height>{int(ann.height)}</height>", "\t\t<depth>3</depth>", "\t</size>",
             "\t<segmented>0</segmented>"]
    for i, b in enumerate(ann.boxes, 1):
        lines.extend(_object_lines(b, ann.width, ann.height, xml_path, i))
    lines.extend(f"\t{h.raw}" for h in ann.hidden)
    lines.append("</annotation>")
    text = "\n".join(lines) + "\n"
    parse_voc_tree(text.encode("utf-8"), xml_path)  # a hidden box's raw XML must still parse
    return text


def _text(value: str) -> str:
    """``value`` as XML character data; characters XML cannot hold become U+FFFD."""
    return escape(_NOT_XML.sub("\ufffd", value))


def _relative(image: Path, folder: Path) -> str:
    try:
        return Path(os.path.relpath(image.absolute(), folder.absolute())).as_posix()
    except ValueError:  # another drive on Windows: no relative path exists
        return image.name


def _object_lines(b: Box, width: int, height: int, path: Path, i: int) -> list[str]:
    try:
        check_class_name(b.label, f"box {i}: class name")
    except ConfigError as e:
        raise LabelFileError(path, f"not written: {e}") from None
    numbers = [*b.xyxy(), *([] if b.score is None else [float(b.score)])]
    if not all(math.isfinite(v) for v in numbers):
        raise LabelFileError(path, f"not written: {box_name(i, b)} has a number that is not finite"
                                   + (f" (score {b.score!r})" if b.score is not None else ""))
    x1, y1, x2, y2 = (int(round(v)) for v in b.xyxy())
    # LabelImg's rule: a box touching the image border is 'truncated'.
    truncated = int(x1 <= 1 or y1 <= 1 or x2 >= width or y2 >= height)
    lines = ["\t<object>", f"\t\t<name>{escape(b.label)}</name>", "\t\t<pose>Unspecified</pose>",
             f"\t\t<truncated>{truncated}</truncated>", f"\t\t<difficult>{int(b.difficult)}</difficult>",
             "\t\t<bndbox>", f"\t\t\t<xmin>{x1}</xmin>", f"\t\t\t<ymin>{y1}</ymin>",
             f"\t\t\t<xmax>{x2}</xmax>", f"\t\t\t<ymax>{y2}</ymax>", "\t\t</bndbox>"]
    if b.predicted:
        lines.append("\t\t<predicted>1</predicted>")
    if b.score is not None:
        lines.append(f"\t\t<score>{float(b.score)!r}</score>")
    lines.append("\t</object>")
    return lines


def write_voc(ann: ImageAnnotation, xml_path: str | Path) -> None:
    """Save ``ann`` as VOC XML at ``xml_path`` atomically."""
    atomic_write_text(xml_path, voc_xml(ann, xml_path))


# What may come before the root element: a BOM, the declaration, comments, PIs, a DOCTYPE.
_PROLOG = re.compile(rb"(?:\xef\xbb\xbf)?\s*(?:<\?xml.*?\?>\s*)?"
                     rb"(?:(?:<!--.*?-->|<\?.*?\?>|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)\s*)*", re.S)
_END = b"</annotation>"


def edited_bytes(data: bytes, root: Element) -> bytes:
    """The edited ``root`` between the file's own bytes before and after it, in its encoding and
    line endings: the user's comments, declaration, BOM and last newline stay as they were."""
    root.tail = None
    body = ET.tostring(root, encoding="unicode")
    if b"\r\n" in data:
        body = body.replace("\n", "\r\n")     # the parser reads CRLF as LF
    prolog = _PROLOG.match(data)
    end = data.rfind(_END)
    if not data.startswith(b"<annotation", prolog.end()) or end < 0:
        head = b'<?xml version="1.0" encoding="utf-8"?>\n' if data.lstrip().startswith(b"<?xml") else b""
        return head + body.encode("utf-8") + b"\n"
    declared = re.search(rb"^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*encoding=[\"']([\w.:-]+)", data)
    encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    try:
        encoded = body.encode(encoding, "xmlcharrefreplace")
    except LookupError:
        encoded = body.encode("utf-8")
    return data[:prolog.end()] + encoded + data[end + len(_END):]


__all__ = ["EXTENSION", "read_voc", "parse_voc", "parse_voc_tree", "voc_xml", "write_voc",
           "edited_bytes"]
