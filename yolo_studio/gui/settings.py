"""The app's QSettings, kept in the user data folder (so YOLO_STUDIO_HOME isolates it)."""
from __future__ import annotations

from PySide6.QtCore import QSettings

from yolo_studio.core.paths import user_data_dir


def settings() -> QSettings:
    """Per-user settings (recent projects, class colours) in ``<user data>/settings.ini``."""
    return QSettings(str(user_data_dir() / "settings.ini"), QSettings.IniFormat)
