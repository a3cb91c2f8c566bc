"""Errors that name the file or setting a user has to fix."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class YoloStudioError(Exception):
    """Base class: its message is meant to be shown to a user as it is."""


class LabelFileError(YoloStudioError):
    """A label file that cannot be read; names the file and what is wrong."""

    def __init__(self, path: str | Path, what: str):
        self.path = Path(path)
        self.what = what
        super().__init__(f"{self.path}: {what}")


class ImageFileError(YoloStudioError):
    """An image that is missing or cannot be decoded."""

    def __init__(self, path: str | Path, what: str = "cannot be decoded as an image"):
        self.path = Path(path)
        self.what = what
        super().__init__(f"{self.path}: {what}")


class ConfigError(YoloStudioError):
    """A setting (project file, CLI flag, form field) with a value that cannot work."""


@dataclass(frozen=True)
class Problem:
    """A non-fatal issue found while loading data: the rest still loads."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"
