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
    while True:
        pos = _WS.match(text, pos).end()
        key, pos = _DECODER.raw_decode(text, pos)
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


def spliced(text: str, starts, ends, drop: set, insert_at: int, new: list[str], array: tuple[int, int],
            sep: str):
    """``text`` with the array elements numbered in ``drop`` removed and ``new`` (JSON texts)
    put where element ``insert_at`` was (at the end when it is past the last).

    ``starts``/``ends`` give every element's span in file order. Elements kept
    are copied as runs of the original text, so they stay byte for byte as read.
    Returns (new text, new spans of every element in file order, for each old
    element its new index or -1, the new indices of ``new``).
    """
    items, run = [], None
    for i in range(len(starts)):
        if (i == insert_at and new) or i in drop:
            if run is not None:
                items.append(run)
                run = None
        if i == insert_at:
            items.extend(("new", j) for j in range(len(new)))
        if i not in drop:
            run = (run[0], i) if run is not None else (i, i)
    if run is not None:
        items.append(run)
    if insert_at >= len(starts):
        items.extend(("new", j) for j in range(len(new)))
    head = int(starts[0]) if len(starts) else array[0]
    tail = int(ends[-1]) if len(starts) else array[1]
    pieces, spans, old_to_new, new_index = [text[:head]], [], [-1] * len(starts), [0] * len(new)
    pos = head
    for n, item in enumerate(items):
        if n:
            pieces.append(sep)
            pos += len(sep)
        if item[0] == "new":
            new_index[item[1]] = len(spans)
            spans.append((pos, pos + len(new[item[1]])))
            pieces.append(new[item[1]])
            pos += len(new[item[1]])
            continue
        a, b = item
        shift = pos - int(starts[a])
        for i in range(a, b + 1):
            old_to_new[i] = len(spans)
            spans.append((int(starts[i]) + shift, int(ends[i]) + shift))
        pieces.append(text[int(starts[a]):int(ends[b])])
        pos += int(ends[b]) - int(starts[a])
    pieces.append(text[tail:])
    return "".join(pieces), spans, old_to_new, new_index
