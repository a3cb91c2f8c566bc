"""The one rule for class names, used by the project, every reader and the GUI.

A class name ends up in VOC XML, classes.txt, COCO JSON and the GUI's lists.
Control characters make XML unreadable and line breaks split classes.txt, and
spaces at either end are invisible in the GUI yet make " cat" a different
class from "cat"; so such names are refused at the door, never silently fixed.
"""
from __future__ import annotations

import unicodedata

from yolo_studio.core.errors import ConfigError

MAX_LENGTH = 200
# Cc: control characters (XML 1.0 cannot hold most of them); Cs: lone surrogates
# (not encodable as UTF-8); Zl/Zp: line and paragraph separators (split lines).
_REFUSED_CATEGORIES = {"Cc", "Cs", "Zl", "Zp"}
# Bidi embeddings, overrides and isolates reorder how the name (and the text
# around it in lists and messages) is shown: "dog\u202egod" reads "dogdog".
# Other format characters (ZWJ, ZWNJ, marks) are part of real words and stay.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _visible_form(name: str) -> str:
    """How a name looks: compatibility-normalised, with invisible format characters left out."""
    return "".join(c for c in unicodedata.normalize("NFKC", name) if unicodedata.category(c) != "Cf")


def look_alike(name: str, names) -> str | None:
    """A name in ``names`` other than ``name`` that looks the same on screen, or None.

    "café" typed (NFC) and "café" from a macOS file name (NFD), or "cat" and
    "cat" + a right-to-left mark, are different strings in every label file,
    yet no one can tell them apart in the class list.
    """
    form = _visible_form(name)
    return next((n for n in names if n != name and _visible_form(n) == form), None)


def check_new_class(name, names, where: str = "class name") -> str:
    """:func:`check_class_name`, and refuse a name that looks like one of ``names`` but is not it."""
    check_class_name(name, where)
    twin = look_alike(name, names)
    if twin is not None:
        raise ConfigError(f"{where} {name!r} looks the same as the class {twin!r} but is a different "
                          "text (other Unicode form or invisible characters); use that class or another name")
    return name


def class_name_problem(name) -> str:
    """'' if ``name`` can be a class name, else a sentence saying why not."""
    if not isinstance(name, str):
        return f"a class name must be text, not {type(name).__name__}"
    if not name.strip():
        return "a class name cannot be empty"
    if name != name.strip():
        return "a class name cannot start or end with spaces"
    if len(name) > MAX_LENGTH:
        return f"a class name can have at most {MAX_LENGTH} characters"
    bad = sorted({c for c in name if unicodedata.category(c) in _REFUSED_CATEGORIES})
    if bad:
        shown = ", ".join(f"U+{ord(c):04X}" for c in bad)
        return f"a class name cannot contain control characters or line breaks ({shown})"
    bidi = sorted(set(name) & _BIDI_CONTROLS)
    if bidi:
        shown = ", ".join(f"U+{ord(c):04X}" for c in bidi)
        return f"a class name cannot contain text-direction controls ({shown}); they change how it is shown"
    if not _visible_form(name).strip():
        return "a class name needs a visible character (this one is only invisible characters)"
    return ""


def check_class_name(name, where: str = "class name") -> str:
    """Return ``name`` unchanged if valid, else raise ConfigError naming ``where``."""
    why = class_name_problem(name)
    if why:
        raise ConfigError(f"{where} {name!r}: {why}")
    return name
