"""The labeller's part of the session: splitter, list filters and the image on screen.

Saved when the window closes, restored when it opens on the same project, so a
restart resumes at the image the user left (gui/settings.py says why).
"""
from __future__ import annotations

from pathlib import Path

from yolo_studio.gui.settings import read_setting, settings, write_settings

PREFIX = "labeller/"


def save_labeller_session(panel) -> None:
    """Remember the splitter, and for the open project its filters and image."""
    values = {PREFIX + "splitter": panel.splitter.saveState()}
    if panel.project is not None:
        b = panel.browser
        values.update({
            PREFIX + "project": str(panel.project.root),
            PREFIX + "image": str(panel.current_path() or ""),
            PREFIX + "filterState": b.state_box.currentData() or "",
            PREFIX + "filterClass": b.class_box.currentData() or "",
            PREFIX + "filterText": b.search.text(),
        })
    write_settings(values)


def restore_labeller_session(panel) -> None:
    """Put back what save_labeller_session kept; filters and image only for the same project.

    The splitter is left to restore_splitter, called once the window has its size.
    """
    if panel.project is None or read_setting(PREFIX + "project", "") != str(panel.project.root):
        return
    panel.browser.set_filters(read_setting(PREFIX + "filterState", ""),
                              read_setting(PREFIX + "filterClass", ""),
                              read_setting(PREFIX + "filterText", ""))
    image = read_setting(PREFIX + "image", "")
    if image:
        # An image the restored filters hide: the filters win, the list shows its first image.
        panel.browser.select_path(Path(image), clear_filter=False)


def restore_splitter(panel) -> None:
    """Give the image list, canvas and side panel their widths of the last session.

    Called when the window is first shown: restored before the layout has its
    final size, the widths would be squeezed into the default one.
    """
    state = settings().value(PREFIX + "splitter")
    if state:
        panel.splitter.restoreState(state)
