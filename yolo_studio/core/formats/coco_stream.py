"""Read a large COCO JSON one object at a time, so it never exists as one big dict.

``json.loads`` of COCO train2017's 450 MB instances file builds about 2.5 GB
of Python objects (every polygon point is a float object). Here the text is
walked with the standard decoder's ``raw_decode``, one element of the
``images`` and ``annotations`` arrays at a time; each is handed to a
callback, which keeps what it needs (ids, sizes, boxes) and drops the rest.
Same parser, same errors, a small fraction of the memory.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import LabelFileError

_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")
SPANS = " spans"   # not a JSON key a file can collide with: it starts with a space


def read_text(path: Path) -> str:
    """The file's text (UTF-8, a BOM dropped); LabelFileError naming it otherwise."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except OSError as e:
        raise LabelFileError(path, f"cannot be read ({e.strerror or e})") from None
    except UnicodeDecodeError:
        raise LabelFileError(path, "is not UTF-8 text") from None


def stream_coco(path: Path, on: dict[str, Callable[[int, object, int, int], None]],
                text: str | None = None) -> dict:
    """Walk the top-level object of ``path``; ``on[key](n, element, start, end)`` for each array
    element of the keys in ``on`` (``text[start:end]`` is its JSON); returns the other top-level
    keys' values, plus ``SPANS``: {key: (just after its '[', its ']')}. LabelFileError if malformed."""
    text = read_text(path) if text is None else text
    try:
        return _walk(text, on)
    except (ValueError, IndexError) as e:
        raise LabelFileError(path, f"malformed JSON ({e})") from None


def _expect(text: str, pos: int, chars: str) -> tuple[str, int]:
    pos = _WS.match(text, pos).end()
    if pos >= len(text) or text[pos] not in chars:
        raise ValueError(f"expected one of {chars!r} at character {pos}")
    return text[pos], pos + 1


def _walk(text: str, on: dict) -> dict:
    other: dict = {SPANS: {}}
    _c, pos = _expect(text, 0, "{")
    if text.startswith("}", _WS.match(text, pos).end()):
        return other
    seen = set()
    while True:
        pos = _WS.match(text, pos).end()
        key, pos = _DECODER.raw_decode(text, pos)
        if key in seen:
            # json.load keeps the last; walking both would mix their elements' places.
            raise ValueError(f"key {key!r} appears twice at the top level (keep one)")
        seen.add(key)
        _c, pos = _expect(text, pos, ":")
        pos = _WS.match(text, pos).end()
        if key in on and text.startswith("[", pos):
            start = pos + 1
            pos = _array(text, start, on[key])
            other[SPANS][key] = (start, pos - 1)
        else:
            other[key], pos = _DECODER.raw_decode(text, pos)
        c, pos = _expect(text, pos, ",}")
        if c == "}":
            return other


def _array(text: str, pos: int, callback) -> int:
    pos = _WS.match(text, pos).end()
    if text.startswith("]", pos):
        return pos + 1
    n = 0
    while True:
        start = _WS.match(text, pos).end()
        element, pos = _DECODER.raw_decode(text, start)
        callback(n, element, start, pos)
        n += 1
        c, pos = _expect(text, pos, ",]")
        if c == "]":
            return pos


def spliced(text, starts, ends, drop: set, insert_at: int, new: list, array: tuple[int, int], sep):
    """``text`` (str, or bytes when ASCII) with the array elements numbered in ``drop`` removed
    and ``new`` (JSON texts of the same type) put where element ``insert_at`` was (at the end
    when it is past the last).

    ``starts``/``ends`` give every element's span in file order. Elements kept
    are copied as runs of the original text, so they stay byte for byte as read.
    Returns (new text, new starts, new ends, each old element's new index or -1,
    the new indices of ``new``).
    """
    n = len(starts)
    items, a = [], 0
    for c in sorted(set(drop) | {min(insert_at, n)}):
        if c > a:
            items.append((a, c - 1))
        if c == insert_at:
            items.extend(("new", j) for j in range(len(new)))
        a = c + 1 if c in drop else c
    if a < n:
        items.append((a, n - 1))
    total = n - len(drop) + len(new)
    new_starts, new_ends = np.zeros(total, np.int64), np.zeros(total, np.int64)
    old_to_new, new_index = np.full(n, -1, np.int64), [0] * len(new)
    head = int(starts[0]) if n else array[0]
    pieces, pos, out = [text[:head]], head, 0
    for k, item in enumerate(items):
        if k:
            pieces.append(sep)
            pos += len(sep)
        if item[0] == "new":
            piece = new[item[1]]
            new_index[item[1]] = out
            new_starts[out], new_ends[out] = pos, pos + len(piece)
            out += 1
        else:
            a, b = item
            piece = text[int(starts[a]):int(ends[b])]
            shift = pos - int(starts[a])
            new_starts[out:out + b - a + 1] = starts[a:b + 1] + shift
            new_ends[out:out + b - a + 1] = ends[a:b + 1] + shift
            old_to_new[a:b + 1] = np.arange(out, out + b - a + 1)
            out += b - a + 1
        pieces.append(piece)
        pos += len(piece)
    pieces.append(text[int(ends[-1]) if n else array[1]:])
    return text[:0].join(pieces), new_starts, new_ends, old_to_new, new_index
