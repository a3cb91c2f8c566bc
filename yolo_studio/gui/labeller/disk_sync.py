"""The labeller and changes made on disk by others: new images, outside label edits.

- New or removed images appear by themselves (a QFileSystemWatcher on the image
  folders, debounced) or with View > Reload folder (F5).
- Each label file's state (mtime, size) is remembered when the labeller reads or
  writes it. Before a save, a file that changed since is never overwritten
  silently: the user picks Reload (their edit on that image is dropped) or Keep
  mine. An outside edit of the open image with no edit pending here is reloaded
  at once.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, Qt, QTimer
from PySide6.QtWidgets import QMessageBox

WATCH_DELAY_MS = 400   # a copy of 50 files or an editor's temp-file dance is one rescan


def ask_reload(parent, image: Path) -> bool:
    """Ask what to do about an outside edit; True to reload the file, False to keep our edit."""
    box = QMessageBox(QMessageBox.Warning, "Label file changed on disk",
                      f"The labels of {image.name} were changed by another program since "
                      "they were opened here, and you have an edit of them that is not saved.",
                      parent=parent)
    box.setInformativeText("Reload: show the file as it is now (your last edit here is dropped).\n"
                           "Keep mine: overwrite the file with what you see here.")
    reload = box.addButton("Reload from disk", QMessageBox.AcceptRole)
    box.addButton("Keep mine", QMessageBox.DestructiveRole)
    box.setDefaultButton(reload)
    box.exec()
    return box.clickedButton() is reload


class DiskSync(QObject):
    """Keeps the labeller in step with its folders; attached to a LabellerPanel."""

    def __init__(self, panel):
        super().__init__(panel)
        self.panel = panel
        self.watcher = QFileSystemWatcher(self)
        self.watcher.directoryChanged.connect(self._later)
        self.watcher.fileChanged.connect(self._later)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(WATCH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        self._asking: set[Path] = set()
        # Queued: the question is asked from the event loop, not inside a flush.
        panel.store.conflict.connect(self._conflict, Qt.QueuedConnection)
        # Our own save replaces the file (a new inode): watch the new one.
        panel.store.saved.connect(self._saved)
        # "image n of N" must count a snapshot just added (queued: after the list reloads).
        panel.context.imagesAdded.connect(lambda _paths: panel.show_status(), Qt.QueuedConnection)

    def watch_project(self, project) -> None:
        """Watch ``project``'s image folders (nothing for None)."""
        paths = self.watcher.directories() + self.watcher.files()
        if paths:
            self.watcher.removePaths(paths)
        if project is not None:
            dirs = [str(d) for d in project.image_dirs if d.is_dir()]
            if dirs:
                self.watcher.addPaths(dirs)

    def opened(self, image: Path) -> None:
        """``image`` was just read from disk: remember its label file's state, and watch it."""
        store, project = self.panel.store, self.panel.project
        if project is None:
            return
        if store.pending(image) is None:
            store.remember_disk(image)
        self._watch_label(image)

    def _watch_label(self, image: Path) -> None:
        # An in-place rewrite by another program does not signal the folder: watch the file.
        files = self.watcher.files()
        if files:
            self.watcher.removePaths(files)
        label = self.panel.project.label_path(image)
        if label.is_file():
            self.watcher.addPath(str(label))

    def _saved(self, image) -> None:
        if self.panel.project is not None and Path(image) == self.panel.current_path():
            self._watch_label(Path(image))

    def _later(self, _path: str = "") -> None:
        self._timer.start()

    def refresh(self) -> bool:
        """Rescan the folders (F5); reload the open image if its labels changed outside. True if anything did."""
        panel = self.panel
        project = panel.project
        if project is None:
            return False
        before = panel.browser.model.paths()
        project.refresh()
        changed = project.image_paths() != before
        if changed:
            panel.browser.reload_paths(project)
            panel.show_status()
            panel.context.statusMessage.emit(
                f"The folder changed: {len(project.image_paths()):,} images now.")
        current = panel.current_path()
        if current is not None:
            self._watch_label(current)   # replaced by another program's atomic save?
        if current is not None and panel.store.pending(current) is None \
                and panel.store.changed_on_disk(current):
            panel.reload_labels([current])
            panel.context.statusMessage.emit(f"{current.name}: labels changed on disk, reloaded.")
            changed = True
        return changed

    def _conflict(self, image) -> None:
        image = Path(image)
        store = self.panel.store
        if image in self._asking or store.pending(image) is None:
            return
        self._asking.add(image)
        try:
            reload = ask_reload(self.panel, image)
        finally:
            self._asking.discard(image)
        if reload:
            store.discard(image)
            self.panel.reload_labels([image])
        else:
            store.remember_disk(image)   # the user chose: this write is not silent
            store.flush()
