"""run_app: the QApplication, the stylesheet, the first project, the main window."""
from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QMessageBox

from yolo_studio.core.errors import YoloStudioError
from yolo_studio.core.project import Project
from yolo_studio.gui.context import AppContext
from yolo_studio.gui.style import stylesheet
from yolo_studio.gui.workers import running_threads


def make_app() -> QApplication:
    """The QApplication (an existing one is reused), named for QSettings, styled."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("YOLO Studio")
    app.setOrganizationName("YOLO Studio")
    app.setStyle("Fusion")
    app.setStyleSheet(stylesheet())
    return app


def open_start_project(project_path: str | None):
    """The project to start with: ``project_path``, else the last one opened, else the demo project."""
    if project_path:
        return Project.open(project_path)
    from yolo_studio.gui.main_window import recent_projects
    for last in recent_projects()[:1]:
        try:
            return Project.open(last)
        except (YoloStudioError, OSError):
            pass  # moved or broken since: the demo project still opens
    from yolo_studio.core.demo import ensure_demo_project
    return Project.open(ensure_demo_project())


def run_app(project_path: str | None = None) -> int:
    """Open the main window on ``project_path`` (or the demo project); returns the exit code."""
    app = make_app()
    from yolo_studio.gui.main_window import MainWindow
    try:
        project = open_start_project(project_path)
    except (YoloStudioError, OSError) as e:
        QMessageBox.critical(None, "YOLO Studio", f"Cannot open {project_path or 'the demo project'}:\n\n{e}")
        project = None
    window = MainWindow(AppContext(project))
    if not window.restored:
        window.resize(1400, 900)
    window.show()
    window.labeller.canvas.setFocus()
    from yolo_studio.gui.widget_dump import install_if_asked
    install_if_asked(window)  # only for scripted walks (YOLO_STUDIO_WIDGET_DUMP)
    code = app.exec()
    stop_threads()
    return code


def stop_threads(timeout_ms: int = 5000) -> None:
    """End worker threads still in their event loop once the app's own loop has ended.

    A worker's finished -> thread.quit is queued to the GUI loop, which no longer
    runs here; a QThread destroyed while running aborts the process on exit.
    """
    for thread in running_threads():
        thread.quit()
        thread.wait(timeout_ms)
