"""The app's QSettings, kept in the user data folder (so YOLO_STUDIO_HOME isolates it).

Besides recent projects and class colours, the session lives here: what was
on screen when the app closed (project, image, tab, splitters, list filters,
the preview's source, model and thresholds), so a restart resumes where the
user stopped. Each panel saves and restores its own keys, under its own prefix.
"""
from __future__ import annotations

from PySide6.QtCore import QSettings

from yolo_studio.core.paths import user_data_dir


def settings() -> QSettings:
    """Per-user settings (recent projects, class colours, the session) in ``<user data>/settings.ini``."""
    return QSettings(str(user_data_dir() / "settings.ini"), QSettings.IniFormat)


def read_setting(key: str, default):
    """The setting ``key`` as the type of ``default`` (an INI file gives strings back); ``default`` if unset or unusable."""
    raw = settings().value(key)
    if raw is None:
        return default
    try:
        if isinstance(default, bool):
            return raw if isinstance(raw, bool) else str(raw).lower() in ("true", "1", "yes")
        if isinstance(default, (int, float)):
            return type(default)(raw)
        if isinstance(default, (list, tuple)):
            return [raw] if isinstance(raw, str) else list(raw)
        if isinstance(default, str):
            return str(raw)
    except (TypeError, ValueError):
        return default
    return raw


def write_settings(values: dict) -> None:
    """Store several settings at once."""
    s = settings()
    for key, value in values.items():
        s.setValue(key, value)
    s.sync()
