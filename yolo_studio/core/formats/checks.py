"""Checks every reader applies to boxes: clip to the image, drop empty boxes.

A reader given a ``report`` callback reports each fix as a Problem and goes
on; without one it fixes silently (clipping and dropping an empty box lose
nothing a model could use).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Callable, Optional

from ..annotations import Box
from ..errors import LabelFileError, Problem

Report = Optional[Callable[[Problem], None]]
# Normalised formats put a box drawn at the border a hair outside it; that
# is rounding, not a user's mistake, so it is clipped without a report.
_ROUNDING = 1e-3


def read_text(path: Path) -> str:
    """A label file's text (a UTF-8 BOM dropped); LabelFileError naming it if unreadable."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise LabelFileError(path, "is not UTF-8 text") from None
    except OSError as e:
        raise LabelFileError(path, f"cannot be read ({e.strerror or e})") from None


def parse_float(text: str | None, path: Path, what: str) -> float:
    """A finite float from label-file text; LabelFileError naming the field otherwise."""
    try:
        value = float((text or "").strip())
    except ValueError:
        raise LabelFileError(path, f"{what} is {text!r}, not a number") from None
    if not math.isfinite(value):
        raise LabelFileError(path, f"{what} is {text!r}, not a finite number")
    return value


def check_boxes(boxes: list[Box], width: int, height: int, path: Path, report: Report) -> list[Box]:
    """Clip boxes to [0, width] x [0, height] and drop zero/negative-size ones, reporting each."""
    kept = []
    for i, b in enumerate(boxes, 1):
        fitted, why = fit_box(b, width, height)
        if why:
            _tell(report, path, f"{_where(i, b)} {why}")
        if fitted is not None:
            kept.append(fitted)
    return kept


def fit_box(b: Box, width: int, height: int) -> tuple[Box | None, str]:
    """``b`` clipped to the image, or None when it cannot be used; plus what was wrong ('' if nothing).

    A box is unusable when its corners are swapped or equal, or when it lies
    wholly outside a known image size; a box partly outside is clipped.
    """
    if b.x2 <= b.x1 or b.y2 <= b.y1:
        return None, "has zero or negative size (swapped corners?); skipped"
    if width > 0 and height > 0 and (b.x1 < 0 or b.y1 < 0 or b.x2 > width or b.y2 > height):
        c = b.moved(x1=min(max(b.x1, 0.0), width), y1=min(max(b.y1, 0.0), height),
                    x2=min(max(b.x2, 0.0), width), y2=min(max(b.y2, 0.0), height))
        if c.x2 <= c.x1 or c.y2 <= c.y1:
            return None, f"lies entirely outside the {width}x{height} image; skipped"
        if max(abs(u - v) for u, v in zip(c.xyxy(), b.xyxy())) > _ROUNDING:
            return c, f"extends outside the {width}x{height} image; clipped"
        return c, ""
    return b, ""


def box_name(i: int, b: Box) -> str:
    """How messages name box ``i`` (1-based) of a file."""
    return _where(i, b)


def _where(i: int, b: Box) -> str:
    return f"box {i} ({b.label!r}, x1={b.x1:g} y1={b.y1:g} x2={b.x2:g} y2={b.y2:g})"


def _tell(report: Report, path: Path, message: str) -> None:
    if report is not None:
        report(Problem(str(path), message))


def unknown_class(path: Path, report: Report, message: str) -> None:
    """Report a box whose class is unknown, or raise when nobody listens (strict reads)."""
    if report is None:
        raise LabelFileError(path, message)
    report(Problem(str(path), message + "; box skipped"))
