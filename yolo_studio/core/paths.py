"""Where YOLO Studio keeps per-user data (the demo project, settings)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

APP_DIR_NAME = "yolo-studio"


def user_data_dir() -> Path:
    """The per-user data folder: $YOLO_STUDIO_HOME, else the platform's usual place."""
    override = os.environ.get("YOLO_STUDIO_HOME")
    if override:
        return Path(override).expanduser()
    if sys.platform.startswith("win"):
        base = os.environ.get("LOCALAPPDATA") or os.environ.get("APPDATA")
        return Path(base or Path.home() / "AppData" / "Local") / APP_DIR_NAME
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / APP_DIR_NAME
    xdg = os.environ.get("XDG_DATA_HOME")
    return Path(xdg or Path.home() / ".local" / "share") / APP_DIR_NAME


def demo_project_dir() -> Path:
    """Where ensure_demo_project() keeps the built-in demo project."""
    return user_data_dir() / "demo"
