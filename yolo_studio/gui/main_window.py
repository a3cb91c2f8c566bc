"""The main window: the four panels as tabs, the menus and the status bar; no logic."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QApplication, QFileDialog, QLabel, QMainWindow, QMessageBox,
                               QTabWidget)

from yolo_studio import __version__
from yolo_studio.core.errors import YoloStudioError
from yolo_studio.core.formats.dataset import EXPORT_FORMATS, export_project
from yolo_studio.core.project import PROJECT_FILE, Project
from yolo_studio.gui.anchors.panel import AnchorsPanel
from yolo_studio.gui.labeller.panel import LabellerPanel
from yolo_studio.gui.labeller.session import (restore_labeller_session, restore_splitter,
                                              save_labeller_session)
from yolo_studio.gui.preview.panel import PreviewPanel
from yolo_studio.gui.labeller.label_prompt import asks_after_drawing, set_asks_after_drawing
from yolo_studio.gui.shortcuts import CTRL_D_DUPLICATES_KEY, binding, shortcut_sheet_html
from yolo_studio.gui.settings import read_setting, settings, write_settings
from yolo_studio.gui.style import icon
from yolo_studio.gui.training.panel import TrainingPanel

RECENT_KEY = "recentProjects"
GEOMETRY_KEY = "mainWindow/geometry"
TAB_KEY = "mainWindow/tab"
MAX_RECENT = 8


class MainWindow(QMainWindow):
    """Label, Anchors, Train and Preview tabs over one AppContext."""

    def __init__(self, context, parent=None):
        super().__init__(parent)
        self.context = context
        self.setWindowTitle("YOLO Studio")
        self.labeller = LabellerPanel(context)
        self.panels = [self.labeller, AnchorsPanel(context), TrainingPanel(context),
                       PreviewPanel(context)]
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for panel, name in zip(self.panels, ("Label", "Anchors", "Train", "Preview")):
            self.tabs.addTab(panel, name)
        self.setCentralWidget(self.tabs)
        # The labeller's keys act where the focus is inside it: give it focus on arrival.
        self.tabs.currentChanged.connect(
            lambda _i: self.tabs.currentWidget() is self.labeller and self.labeller.focus_canvas())
        self.statusBar().setSizeGripEnabled(True)
        # Permanent: a timed message would cover it for 15 s at most, never replace it.
        self.location = QLabel()
        self.location.setObjectName("location")
        self.statusBar().addPermanentWidget(self.location)
        self.labeller.locationChanged.connect(self._location_changed)
        context.statusMessage.connect(lambda text: self.statusBar().showMessage(text, 15000))
        context.projectChanged.connect(self._project_changed)
        context.showImageRequested.connect(lambda _path: self.tabs.setCurrentWidget(self.labeller))
        context.showBoxRequested.connect(lambda *_a: self.tabs.setCurrentWidget(self.labeller))
        context.retrainRequested.connect(lambda: self.tabs.setCurrentWidget(self.panels[2]))
        self._build_menus()
        self.restored = self.restoreGeometry(settings().value(GEOMETRY_KEY) or b"")
        self._project_changed(context.project)
        self._splitter_restored = False
        self.restore_session()
        self.labeller.show_status()

    # -- menus ----------------------------------------------------------
    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self._bound(file, "open_folder", self.open_folder)
        self._bound(file, "open_project", self.open_project_file)
        self.recent_menu = file.addMenu("Open recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file.addSeparator()
        self._bound(file, "save", self.save_all)
        export = file.addMenu("Export labels as")
        for fmt, title in EXPORT_FORMATS.items():
            self._add(export, title, lambda _=False, f=fmt: self.export(f))
        file.addSeparator()
        self._bound(file, "quit", self.close)
        edit = bar.addMenu("&Edit")
        la = self.labeller.menu_actions()
        for name in ("undo", "redo", None, "draw", "delete", "duplicate", "copy_previous", "verify",
                     "accept", None, "prelabel"):
            edit.addSeparator() if name is None else edit.addAction(la[name])
        edit.addSeparator()
        self.ask_class_action = self._add(edit, "Ask for the class after drawing",
                                          lambda on: set_asks_after_drawing(on))
        self.ask_class_action.setCheckable(True)
        self.ask_class_action.setChecked(asks_after_drawing())
        self.ctrl_d_action = self._add(edit, "Ctrl+D duplicates the selected box (as LabelImg)",
                                       self._set_ctrl_d)
        self.ctrl_d_action.setCheckable(True)
        self.ctrl_d_action.setChecked(read_setting(CTRL_D_DUPLICATES_KEY, False))
        view = bar.addMenu("&View")
        for name in ("zoom_in", "zoom_out", "fit", None, "prev_image", "next_image",
                     "next_unlabelled", "next_unverified", None, "refresh"):
            view.addSeparator() if name is None else view.addAction(la[name])
        help_menu = bar.addMenu("&Help")
        self._bound(help_menu, "shortcuts", self.show_shortcuts)
        self._add(help_menu, "About YOLO Studio", self.show_about)

    def _set_ctrl_d(self, duplicates: bool) -> None:
        write_settings({CTRL_D_DUPLICATES_KEY: bool(duplicates)})
        self.labeller.apply_ctrl_d(duplicates)

    def _bound(self, menu, name: str, slot) -> QAction:
        """A menu action made from the shortcut table, so Help lists its real keys."""
        b = binding(name)
        act = self._add(menu, b.text, slot, icon_name=b.icon)
        act.setShortcuts([QKeySequence(k) for k in b.keys])
        act.setObjectName(name)
        return act

    def _add(self, menu, text, slot, keys=None, icon_name="") -> QAction:
        act = QAction(icon(icon_name), text, self)
        if keys is not None:
            act.setShortcut(QKeySequence(keys))
        act.triggered.connect(slot)
        menu.addAction(act)
        return act

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in recent_projects():
            self._add(self.recent_menu, path, lambda _=False, p=path: self.open_path(p))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    # -- commands -------------------------------------------------------
    def open_folder(self) -> None:
        """File > Open folder: a project folder or a plain folder of images."""
        path = QFileDialog.getExistingDirectory(self, "Open a folder of images or a project")
        if path:
            self.open_path(path)

    def open_project_file(self) -> None:
        """File > Open project: a yolo_studio.json, an ultralytics data.yaml or a COCO instances JSON."""
        path, _ = QFileDialog.getOpenFileName(
            self, "Open project", "", f"Project or dataset ({PROJECT_FILE} *.yaml *.yml instances_*.json)")
        if path:
            self.open_path(path)

    def open_path(self, path: str) -> bool:
        """Open a project folder, project file or image folder; says why if it cannot."""
        if not self._may_switch():
            return False
        QApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            project = Project.open(path)
            project.image_paths()
        except (YoloStudioError, OSError) as e:
            QApplication.restoreOverrideCursor()
            QMessageBox.warning(self, "Open", f"Cannot open {path}:\n\n{e}")
            return False
        QApplication.restoreOverrideCursor()
        self.context.set_project(project)
        return True

    def save_all(self) -> None:
        """Labels save themselves; this also writes the project file now."""
        ok = self.labeller.flush()
        try:
            if self.context.project is not None:
                self.context.project.save()
        except (YoloStudioError, OSError) as e:
            QMessageBox.warning(self, "Save", str(e))
            return
        self.context.statusMessage.emit("Saved." if ok else "Some labels could not be saved.")

    def export(self, fmt: str) -> None:
        """File > Export labels as ``fmt`` into a folder the user picks."""
        project = self.context.project
        if project is None:
            return
        self.labeller.flush()
        out = QFileDialog.getExistingDirectory(self, f"Export labels as {EXPORT_FORMATS[fmt]} into…")
        if not out:
            return
        QApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            written = export_project(project, fmt, Path(out))
        except (YoloStudioError, OSError) as e:
            QApplication.restoreOverrideCursor()
            QMessageBox.warning(self, "Export labels", str(e))
            return
        QApplication.restoreOverrideCursor()
        problems = written.problems
        text = (f"Exported {written.images} labelled images ({written.boxes} boxes) as "
                f"{EXPORT_FORMATS[fmt]} to {out}.")
        if problems:
            text += f"\n\n{len(problems)} problem(s), skipped:\n" + "\n".join(map(str, problems[:10]))
        QMessageBox.information(self, "Export labels", text)

    def show_shortcuts(self) -> None:
        """Help > Keyboard shortcuts, generated from the binding table."""
        box = QMessageBox(self)
        box.setWindowTitle("Keyboard shortcuts")
        box.setTextFormat(Qt.RichText)
        box.setText(shortcut_sheet_html(ctrl_d_duplicates=self.ctrl_d_action.isChecked()))
        box.setObjectName("shortcutSheet")
        box.open()

    def show_about(self) -> None:
        """Help > About."""
        QMessageBox.about(self, "About YOLO Studio",
                          f"<b>YOLO Studio {__version__}</b><p>Label boxes, fit anchors, train "
                          "YOLOv3 and watch it detect, in one window.</p>")

    # -- session --------------------------------------------------------
    def restore_session(self) -> None:
        """Back to the tab, image, filters, splitter and preview set-up of the last session."""
        restore_labeller_session(self.labeller)
        self._each_other_panel("restore_session")

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._splitter_restored:
            # Only now has the Label tab its size (a hidden tab has none): its splitter
            # first, then the tab of the last session.
            self._splitter_restored = True
            restore_splitter(self.labeller)
            self.tabs.setCurrentIndex(min(max(read_setting(TAB_KEY, 0), 0), self.tabs.count() - 1))

    def save_session(self) -> None:
        """Remember the window, the tab and each panel's state for the next start."""
        write_settings({GEOMETRY_KEY: self.saveGeometry(), TAB_KEY: self.tabs.currentIndex()})
        save_labeller_session(self.labeller)
        self._each_other_panel("save_session")

    def _each_other_panel(self, method: str) -> None:
        """Call ``method`` on every panel but the labeller that has it (session hooks are optional)."""
        for panel in self.panels[1:]:
            hook = getattr(panel, method, None)
            if hook is not None:
                hook()

    # -- project and closing --------------------------------------------
    def _project_changed(self, project) -> None:
        if project is not None:
            remember_project(str(project.root))
        self._update_title()

    def _location_changed(self, text: str) -> None:
        self.location.setText(text)
        self._update_title()

    def _update_title(self) -> None:
        # As LabelImg: the open file's path is in the title, so a user always knows which file it is.
        project, image = self.context.project, self.labeller.current_path()
        if project is None:
            self.setWindowTitle("YOLO Studio")
        elif image is None:
            self.setWindowTitle(f"{project.root.name} — YOLO Studio")
        else:
            self.setWindowTitle(f"{image} — {project.root.name} — YOLO Studio")

    def _may_switch(self) -> bool:
        return self.labeller.may_close()

    def closeEvent(self, event) -> None:
        for panel in self.panels:
            may_close = getattr(panel, "may_close", None)
            if may_close is not None and not may_close():
                event.ignore()
                return
        self.save_session()
        event.accept()


def recent_projects() -> list[str]:
    """Recently opened projects, newest first, that still exist."""
    value = settings().value(RECENT_KEY) or []
    items = [value] if isinstance(value, str) else list(value)
    return [p for p in items if Path(p).exists()]


def remember_project(path: str) -> None:
    """Put ``path`` first in File > Open recent."""
    items = [p for p in recent_projects() if p != path]
    settings().setValue(RECENT_KEY, [path, *items][:MAX_RECENT])
