"""Data files shipped with the app (icons, stylesheet); no code that needs Qt."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent


def resource_path(name: str) -> Path:
    """Path of a file shipped in this folder."""
    return ROOT / name
