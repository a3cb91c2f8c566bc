"""The preview panel plays a real video through a real (random-weight) tiny YOLO model."""
from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt

from yolo_studio.core.project import Project
from yolo_studio.gui.context import AppContext
from yolo_studio.gui.preview.panel import PreviewPanel
from yolo_studio.gui.colors import class_color as labeller_color

CLASSES = ["circle", "square", "triangle"]
WAIT_MS = 30000


def shapes_checkpoint(tmp_path_factory):
    """A random-weight yolov3-tiny at 64 px with the project's classes, built once per session."""
    from yolo_studio.core.model import ModelSpec, build_model, save_checkpoint

    weights = tmp_path_factory.getbasetemp() / "preview-models" / "shapes.weights.h5"
    if not weights.exists():  # the pre-label dialog tests share it
        save_checkpoint(build_model("yolov3-tiny", 3, 64),
                        ModelSpec("yolov3-tiny", 3, 64, class_names=CLASSES), weights)
    return weights


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """The shapes model, and the same weights described with other class names."""
    from yolo_studio.core.model import ModelSpec

    shapes = shapes_checkpoint(tmp_path_factory)
    pets = shapes.with_name("pets.weights.h5")
    shutil.copy(shapes, pets)
    spec = ModelSpec("yolov3-tiny", 3, 64, class_names=["cat", "dog", "owl"])
    pets.with_name("pets.json").write_text(json.dumps(spec.to_dict()))
    return {"shapes": shapes, "pets": pets}


def write_video(path, n=24, fps=30, size=(128, 96)):
    """Demo-like frames: a red disc and a green square moving over a grey background."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    for i in range(n):
        img = np.full((size[1], size[0], 3), 150, np.uint8)
        cv2.circle(img, (20 + 3 * i, 40), 14, (40, 40, 215), -1)
        cv2.rectangle(img, (70, 20 + i), (100, 50 + i), (45, 185, 45), -1)
        writer.write(img)
    writer.release()
    return path


@pytest.fixture
def panel(qtbot, tmp_path, checkpoints):
    project = Project.create(tmp_path / "proj", CLASSES)
    context = AppContext(project)
    p = PreviewPanel(context)
    qtbot.addWidget(p)
    p.resize(900, 600)
    p.show()
    p.source_picker.set_kind("video")
    p.source_picker.video_path.setText(str(write_video(tmp_path / "clip.avi")))
    p.model_picker.choose_file(checkpoints["shapes"])
    p.score_slider.setValue(0.05)  # random weights score low
    yield p
    p.shutdown()


def wait_stopped_with(qtbot, p, text):
    """Wait until the threads ended and ``text`` is shown (its signal is queued, so may come last)."""
    qtbot.waitUntil(lambda: not p.is_running() and text in p.message_label.text(), timeout=WAIT_MS)


def wait_frames(qtbot, p, n):
    start = p.stats.frames_shown
    qtbot.waitUntil(lambda: p.stats.frames_shown >= start + n, timeout=WAIT_MS)


def test_video_plays_with_detections_painted(qtbot, panel):
    panel.source_picker.loop.setChecked(True)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert panel.start_button.text() == "Stop"
    wait_frames(qtbot, panel, 3)
    view = panel.view
    assert view.detections, "a random model at score 0.05 still finds boxes"
    assert view.source_size == (128, 96)
    # Frames arrive scaled to the view by the detector thread, aspect kept.
    rect = view.image_rect()
    assert (view.image.width(), view.image.height()) == (round(rect.width()), round(rect.height()))
    assert rect.width() > 128
    # The box drawn last (on top) has its bottom edge painted in its class colour.
    d = view.detections[-1]
    scale = rect.width() / 128
    x = int(rect.x() + (d.x1 + d.x2) / 2 * scale)
    y = int(rect.y() + d.y2 * scale)
    shot = view.grab().toImage()
    colours = {shot.pixelColor(x, y + dy).name() for dy in range(-2, 3)}
    assert view.color_for(d).name() in colours
    assert view.color_for(d) == labeller_color(d.label, CLASSES)
    assert "fps shown" in " ".join(view.hud_lines)
    assert panel.stats.median("infer") > 0 and panel.stats.median("latency") > 0
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=WAIT_MS)
    assert panel.start_button.text() == "Start"
    shown = panel.stats.frames_shown
    qtbot.wait(200)
    assert panel.stats.frames_shown == shown  # stopped means no more frames


def test_an_image_folder_plays_through_to_its_last_image(qtbot, panel, tmp_path):
    folder = tmp_path / "shots"
    folder.mkdir()
    for i, (w, h) in enumerate([(96, 64), (128, 128), (80, 120)]):
        cv2.imwrite(str(folder / f"{i}.png"), np.full((h, w, 3), 60 * i, np.uint8))
    panel.source_picker.set_kind("folder")
    panel.source_picker.folder_path.setText(str(folder))
    assert panel.start()
    # The end is reported by a queued signal that may land after the threads end.
    # The last image is always shown (earlier ones may be skipped while the model warms up).
    qtbot.waitUntil(lambda: not panel.is_running()
                    and "End of folder shots" in panel.message_label.text()
                    and getattr(panel.last_result, "name", None) == "2.png", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: panel.view.source_size == (80, 120), timeout=5000)


def test_a_video_that_ends_stops_with_a_message_after_its_last_frame(qtbot, panel):
    assert panel.start()
    qtbot.waitUntil(lambda: not panel.is_running()
                    and "End of clip.avi" in panel.message_label.text()
                    and getattr(panel.last_result, "index", None) == 23, timeout=WAIT_MS)
    assert panel.start_button.text() == "Start"
    assert panel.source_picker.isEnabled()


def test_thresholds_and_class_filter_apply_to_the_next_frames(qtbot, panel):
    panel.source_picker.loop.setChecked(True)
    assert panel.start()
    wait_frames(qtbot, panel, 2)
    assert panel.last_result.detections
    panel.score_slider.setValue(0.99)
    panel.iou_slider.setValue(0.3)
    qtbot.waitUntil(lambda: panel.last_result.options.score_threshold == 0.99, timeout=WAIT_MS)
    wait_frames(qtbot, panel, 1)
    assert panel.last_result.options.iou_threshold == 0.3
    # Random heads score every box about 0.25: at 0.99 the boxes are gone.
    assert panel.last_result.detections == [] and panel.view.detections == []

    panel.score_slider.setValue(0.05)
    labels = [panel.class_list.item(i).text() for i in range(panel.class_list.count())]
    assert labels == CLASSES
    for name in CLASSES[1:]:
        panel.set_class_visible(name, False)
    qtbot.waitUntil(lambda: panel.last_result.options.hidden_classes == frozenset(CLASSES[1:])
                    and panel.last_result.options.score_threshold == 0.05, timeout=WAIT_MS)
    wait_frames(qtbot, panel, 2)
    assert {d.label for d in panel.view.detections} <= {"circle"}
    panel.stop()
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=WAIT_MS)


def test_snapshot_key_saves_the_frame_with_unverified_pre_labels(qtbot, panel):
    assert panel.start()
    wait_frames(qtbot, panel, 2)
    panel.stop()
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=WAIT_MS)
    expected = [(d.label, round(d.score, 4)) for d in panel.last_result.detections]
    assert expected
    panel.activateWindow()  # shortcuts fire only in the active window
    qtbot.waitUntil(panel.isActiveWindow, timeout=5000)
    panel.setFocus()
    with qtbot.waitSignal(panel.context.imagesAdded, timeout=5000) as added, \
            qtbot.waitSignal(panel.context.labelsChanged, timeout=5000) as changed:
        qtbot.keyClick(panel, Qt.Key.Key_S)
    path = added.args[0][0]
    assert changed.args[0] == [path]
    assert "Saved" in panel.message_label.text()
    reopened = Project.open(panel.context.project.root)
    assert path in reopened.image_paths()
    ann = reopened.load_annotation(path)
    assert (ann.width, ann.height) == (128, 96)
    assert not ann.verified
    assert all(b.predicted for b in ann.boxes)
    assert sorted((b.label, round(b.score, 4)) for b in ann.boxes) == sorted(expected)
    saved = cv2.imread(str(path))
    shown = cv2.cvtColor(panel.last_result.rgb, cv2.COLOR_RGB2BGR)
    assert np.abs(saved.astype(int) - shown).mean() < 3  # same frame, JPEG-saved


def test_snapshot_without_a_frame_or_project_explains_why(qtbot, panel):
    assert panel.snapshot() is None
    assert "start the preview first" in panel.message_label.text()


def test_missing_video_and_absent_camera_show_a_message(qtbot, panel, tmp_path):
    panel.source_picker.video_path.setText(str(tmp_path / "gone.avi"))
    assert panel.start()
    wait_stopped_with(qtbot, panel, "gone.avi: video file not found")
    assert panel.start_button.text() == "Start"

    panel.source_picker.set_kind("camera")
    qtbot.waitUntil(lambda: panel.source_picker.refresh.isEnabled(), timeout=5000)
    assert not panel.start()
    assert "No camera to open" in panel.message_label.text()
    panel.source_picker.cameras.addItem("Camera 7", 7)  # as if it had been listed, then unplugged
    panel.source_picker.cameras.setCurrentIndex(panel.source_picker.cameras.count() - 1)
    assert panel.start()
    wait_stopped_with(qtbot, panel, "Camera 7 cannot be opened")


def test_a_model_that_fails_to_load_stops_the_preview_with_a_message(qtbot, panel, tmp_path):
    bad = tmp_path / "broken.weights.h5"
    bad.write_bytes(b"not hdf5")
    panel.model_picker.choose_file(bad)
    assert panel.start()
    wait_stopped_with(qtbot, panel, "broken")
    assert panel.last_result is None


def test_project_without_a_checkpoint_says_to_train_first(qtbot, panel):
    panel.model_picker.combo.setCurrentIndex(0)  # project: best checkpoint
    assert not panel.start()
    assert "no best checkpoint" in panel.message_label.text()


def test_model_chosen_elsewhere_switches_the_running_preview(qtbot, panel, checkpoints):
    panel.source_picker.loop.setChecked(True)
    assert panel.start()
    wait_frames(qtbot, panel, 1)
    panel.context.modelChosen.emit(str(checkpoints["pets"]))
    qtbot.waitUntil(lambda: panel.detector is not None and
                    panel.detector.class_names == ["cat", "dog", "owl"], timeout=WAIT_MS)
    wait_frames(qtbot, panel, 2)
    assert {d.label for d in panel.view.detections} <= {"cat", "dog", "owl"}
    assert panel.view.detections
    panel.stop()
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=WAIT_MS)


def test_a_fast_source_drops_old_frames_instead_of_queueing_them(qtbot, panel, tmp_path):
    panel.source_picker.video_path.setText(str(write_video(tmp_path / "fast.avi", n=120, fps=240)))
    assert panel.start()
    # The last frame shown is the video's last one: nothing was left waiting in
    # a queue. (Its result is a queued signal that can land after the threads end.)
    qtbot.waitUntil(lambda: not panel.is_running() and panel.last_result is not None
                    and panel.last_result.index == 119, timeout=WAIT_MS)
    assert panel.last_result.dropped > 0
    assert panel.stats.frames_shown < 120


def test_choosing_another_model_while_running_switches_the_detections(qtbot, panel, checkpoints):
    panel.source_picker.loop.setChecked(True)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    wait_frames(qtbot, panel, 2)
    assert panel.detector.class_names == CLASSES
    # the preview lets 'auto' weigh bf16 backends too (checked against TF's float32 boxes)
    assert panel.detector.precision == "auto"
    panel.model_picker.choose_file(checkpoints["pets"])   # listed, as after a Browse earlier
    panel.model_picker.choose_file(checkpoints["shapes"])
    combo = panel.model_picker.combo
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)                # the next entry: pets
    assert combo.currentData() == ("file", str(checkpoints["pets"]))
    qtbot.waitUntil(lambda: panel.detector.class_names == ["cat", "dog", "owl"]
                    and panel.last_result is not None, timeout=WAIT_MS)
    assert {d.label for d in panel.last_result.detections} <= {"cat", "dog", "owl"}
    # The snapshot carries the boxes of the model on screen: none of them is a project class.
    path = panel.snapshot()
    assert path is not None and "left out classes not in the project" in panel.message_label.text()
    assert panel.context.project.load_annotation(path).boxes == []
    panel.stop()
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=WAIT_MS)


def test_a_model_change_after_stop_is_not_saved_under_the_old_detections(qtbot, panel, checkpoints):
    assert panel.start()
    wait_frames(qtbot, panel, 1)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)  # Stop
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=WAIT_MS)
    panel.model_picker.choose_file(checkpoints["pets"])
    assert panel.snapshot() is None
    assert "previous model" in panel.message_label.text()


def button_places(panel):
    return [(b.mapTo(panel, b.rect().topLeft()), b.size())
            for b in (panel.start_button, panel.snapshot_button)]


def test_long_and_short_messages_never_move_the_buttons(qtbot, panel, tmp_path):
    qtbot.waitExposed(panel)
    qtbot.mouseClick(panel.snapshot_button, Qt.MouseButton.LeftButton)  # nothing to save: short
    assert "start the preview first" in panel.message_label.text()
    before = button_places(panel)
    long_name = tmp_path / ("a-very-long-folder-name-" * 6) / "missing-video-file.avi"
    panel.source_picker.video_path.setText(str(long_name))
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    wait_stopped_with(qtbot, panel, "video file not found")
    assert panel.message_label.heightForWidth(panel.message_label.width()) > 80  # many lines
    qtbot.wait(50)  # let a relayout happen, if any would
    assert button_places(panel) == before
    panel.source_picker.set_kind("camera")  # the old message no longer applies
    assert panel.message_label.text() == ""
    assert button_places(panel) == before


def test_the_preview_idles_while_another_tab_is_shown(qtbot, tmp_path, checkpoints):
    from PySide6.QtWidgets import QLabel, QTabWidget

    project = Project.create(tmp_path / "proj", CLASSES)
    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    p = PreviewPanel(AppContext(project))
    tabs.addTab(QLabel("labeller"), "Label")
    tabs.addTab(p, "Preview")
    tabs.resize(900, 600)
    tabs.show()
    tabs.setCurrentIndex(1)
    p.source_picker.set_kind("video")
    p.source_picker.video_path.setText(str(write_video(tmp_path / "clip.avi", n=60, fps=30)))
    p.source_picker.loop.setChecked(True)
    p.model_picker.choose_file(checkpoints["shapes"])
    try:
        qtbot.mouseClick(p.start_button, Qt.MouseButton.LeftButton)
        wait_frames(qtbot, p, 2)
        bar = tabs.tabBar()
        qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(0).center())
        assert tabs.currentIndex() == 0 and p.is_paused()
        qtbot.wait(300)  # a frame already in the detector may still arrive
        shown, grabbed = p.stats.frames_shown, p._mailbox.put_count
        qtbot.wait(600)
        assert (p.stats.frames_shown, p._mailbox.put_count) == (shown, grabbed)
        assert p.is_running()  # paused, not stopped: a video keeps its place
        qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(1).center())
        assert not p.is_paused()
        wait_frames(qtbot, p, 2)
    finally:
        p.shutdown()


def test_preview_switches_to_a_faster_backend_in_the_background_and_the_hud_names_it(
        qtbot, panel, tmp_path, monkeypatch):
    """The model converts off the GUI thread while frames keep coming; then the HUD says so."""
    from yolo_studio.core.runtime import available_backends

    if "openvino" not in available_backends():
        pytest.skip("openvino is not installed")
    monkeypatch.setenv("YOLO_STUDIO_BACKEND", "openvino")
    panel.source_picker.video_path.setText(str(write_video(tmp_path / "long.avi", n=600)))
    assert panel.start()
    wait_frames(qtbot, panel, 2)
    assert any("(tensorflow)" in line for line in panel.view.hud_lines)     # at first
    qtbot.waitUntil(lambda: panel.detector is not None and panel.detector.backend == "openvino",
                    timeout=WAIT_MS * 3)
    wait_frames(qtbot, panel, 3)
    assert any("(openvino)" in line for line in panel.view.hud_lines)
    assert "openvino" in panel.message_label.text()
