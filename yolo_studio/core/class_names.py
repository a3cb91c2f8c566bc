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
    return ""


def check_class_name(name, where: str = "class name") -> str:
    """Return ``name`` unchanged if valid, else raise ConfigError naming ``where``."""
    why = class_name_problem(name)
    if why:
        raise ConfigError(f"{where} {name!r}: {why}")
    return name
