"""Which model the preview and the pre-labeller use: the project's best or last checkpoint, or a file."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QPushButton, QWidget

from yolo_studio.core.errors import YoloStudioError

WEIGHTS_FILTER = ("Model weights (*.weights.h5 *.json *.weights *.keras *.h5 *.tflite);;"
                  "All files (*)")

def latest_checkpoint(project, kind: str):
    """runs.latest_checkpoint, or None when there is no project or no run yet."""
    if project is None:
        return None
    from yolo_studio.core.training import runs
    return runs.latest_checkpoint(project, kind=kind)


def display_name(path) -> str:
    """'<run> · best.weights.h5' for a run's checkpoint (all are called best/last), else the file name.

    The run comes first: a narrow, closed combo box cuts the end of its text,
    and every run's file has the same name.
    """
    p = Path(path)
    if p.parent.name == "weights" and p.parent.parent.name:
        return f"{p.parent.parent.name} \u00b7 {p.name}"
    return p.name


class ModelPicker(QWidget):
    """A combo of 'best' / 'last' checkpoint and chosen files, plus Browse."""

    changed = Signal()

    def __init__(self, context, parent=None):
        super().__init__(parent)
        self.context = context
        self.combo = QComboBox()
        self.combo.setToolTip("The model whose detections are shown: this project's best or last checkpoint, or a file")
        self.combo.addItem("Best checkpoint", ("best", None))
        self.combo.addItem("Last checkpoint", ("last", None))
        self.browse = QPushButton("Browse\u2026")
        self.browse.setObjectName("modelBrowse")   # names: for scripted walks (widget_dump)
        self.combo.setObjectName("modelCombo")
        self.browse.setToolTip("Any weights file the detector can load")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.browse)
        self.browse.clicked.connect(self._browse)
        self.combo.currentIndexChanged.connect(self._index_changed)
        if getattr(context, "model_path", None):
            self.choose_file(context.model_path)

    def choose_file(self, path) -> None:
        """Add ``path`` to the list (once) and select it."""
        path = str(path)
        for i in range(self.combo.count()):
            if self.combo.itemData(i) == ("file", path):
                self.combo.setCurrentIndex(i)
                return
        self.combo.addItem(display_name(path), ("file", path))
        self.combo.setItemData(self.combo.count() - 1, path, Qt.ItemDataRole.ToolTipRole)
        self.combo.setCurrentIndex(self.combo.count() - 1)

    def _index_changed(self, _index: int) -> None:
        data = self.combo.currentData()
        # The closed combo may cut the name: the tooltip says which file it is.
        self.combo.setToolTip(data[1] if data and data[1] else
                              "The model whose detections are shown: this project's best or "
                              "last checkpoint, or a file")
        self.changed.emit()

    def select(self, kind: str, path: str | None = None) -> bool:
        """Select 'best'/'last', or ('file', path) if the file still exists; False if not."""
        if kind == "file":
            if not path or not Path(path).exists():
                return False
            self.choose_file(path)
            return True
        i = self.combo.findData((kind, None))
        if i >= 0:
            self.combo.setCurrentIndex(i)
        return i >= 0

    def _browse(self) -> None:
        start = str(getattr(self.context.project, "root", "") or "")
        path, _ = QFileDialog.getOpenFileName(self, "Choose a model", start, WEIGHTS_FILTER)
        if path:
            self.choose_file(path)
            self.remember(path)

    def remember(self, path) -> None:
        """Note ``path`` as the model last chosen, for the other picker (AppContext state)."""
        self.context.model_path = str(path)

    def resolve(self) -> Path:
        """The file to load; YoloStudioError saying what to do when there is none."""
        kind, path = self.combo.currentData()
        if kind == "file":
            return Path(path)
        try:
            found = latest_checkpoint(self.context.project, kind)
        except ImportError:
            found = None
        if found is None:
            raise YoloStudioError(f"This project has no {kind} checkpoint yet: train a model "
                                  "in the Training panel, or Browse for a weights file.")
        return Path(found)


def load_detector(path, precision: str = "float32"):
    """Detector.load with a message that names the file when it fails.

    ``precision`` 'auto' lets the backend switch consider bfloat16 backends
    (checked against TensorFlow's float32 boxes with their own tolerance); the
    preview uses it, pre-labels and suggestions stay float32.
    """
    from yolo_studio.core.detector import Detector

    try:
        return Detector.load(path, precision=precision)
    except YoloStudioError as e:
        raise YoloStudioError(f"Model could not be loaded: {e}") from e
    except Exception as e:  # Keras/h5py errors: still the user's file to fix
        raise YoloStudioError(f"Model {path} could not be loaded ({type(e).__name__}: {e}). "
                              "Pick another checkpoint or weights file.") from e
