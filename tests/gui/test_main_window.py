"""The main window: tabs, menus, the shortcut sheet, export, opening and closing."""
from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QMessageBox

from yolo_studio.core.formats.coco import read_coco
from yolo_studio.core.formats.pylessons import read_pylessons
from yolo_studio.core.project import Project
from yolo_studio.gui.context import AppContext
from yolo_studio.gui.main_window import MainWindow, recent_projects
from yolo_studio.gui.shortcuts import LABELLER_BINDINGS, WINDOW_BINDINGS, shortcut_sheet_html


@pytest.fixture
def window(qtbot, demo_copy):
    w = MainWindow(AppContext(Project.open(demo_copy)))
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    return w


def menu_texts(window, title):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == title)
    return [a.text() for a in menu.actions() if a.text()]


def test_four_tabs_and_the_demo_image_on_screen(window, demo_copy):
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == \
        ["Label", "Anchors", "Train", "Preview"]
    assert window.labeller.canvas.has_image()
    assert window.labeller.annotation().boxes  # demo images come labelled
    assert demo_copy.name in window.windowTitle()
    assert "image 1 of 48" in window.location.text()


def test_menus_hold_the_commands(window):
    assert {"Open folder…", "Open project…", "Open recent", "Save", "Export labels as", "Quit"} \
        <= set(menu_texts(window, "File"))
    edit = menu_texts(window, "Edit")
    assert edit[0].startswith("Undo") and edit[1].startswith("Redo")
    assert {"Zoom in", "Zoom out", "Fit"} <= set(menu_texts(window, "View"))
    assert {"Keyboard shortcuts", "About YOLO Studio"} <= set(menu_texts(window, "Help"))


def test_shortcut_sheet_lists_the_keys_the_actions_really_have(window):
    sheet = shortcut_sheet_html()
    for b in LABELLER_BINDINGS:
        assert (b.help in sheet) == bool(b.keys)
    panel = window.labeller
    for name, act in panel.actions.items():
        b = next(x for x in LABELLER_BINDINGS if x.name == name)
        assert [s.toString() for s in act.shortcuts()] == \
            [QKeySequence(k).toString() for k in b.keys]
    assert [a.shortcut().toString() for a in panel.class_actions] == [str(i) for i in range(1, 10)]
    for b in WINDOW_BINDINGS:
        act = window.findChild(QAction, b.name)
        assert b.help in sheet
        assert [s.toString() for s in act.shortcuts()] == [QKeySequence(k).toString() for k in b.keys]


def test_labeller_keys_only_act_in_the_label_tab(qtbot, window):
    panel = window.labeller
    first = panel.current_path()
    window.tabs.setCurrentIndex(2)
    window.tabs.currentWidget().setFocus()
    qtbot.keyClick(window.tabs.currentWidget(), Qt.Key_D)
    assert panel.current_path() == first
    window.tabs.setCurrentIndex(0)  # coming back puts the focus on the canvas
    assert panel.canvas.hasFocus() or QApplication.focusWidget() is panel.canvas
    qtbot.keyClick(panel.canvas, Qt.Key_D)
    assert panel.current_path() != first


@pytest.mark.parametrize("fmt", ["coco", "pylessons"])
def test_export_labels(window, tmp_path, monkeypatch, fmt):
    out = tmp_path / "export"
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getExistingDirectory", lambda *a, **k: str(out))
    said = []
    monkeypatch.setattr(QMessageBox, "information", lambda _p, _t, text: said.append(text))
    window.export(fmt)
    project = window.context.project
    anns, _ = project.load_all()
    if fmt == "coco":
        exported, classes = read_coco(out / "annotations.json", image_root=project.root)
    else:
        exported, classes = read_pylessons(out / "train.txt")
    assert classes == project.classes
    assert sum(len(a.boxes) for a in exported) == sum(len(a.boxes) for a in anns)
    assert f"Exported {len(anns)}" in said[0]


def test_export_never_replaces_a_users_file_and_writes_a_dataset_that_opens(window, tmp_path, monkeypatch):
    # File > Export used to write straight over same-named files in the chosen folder.
    out = tmp_path / "mine"
    out.mkdir()
    anns, _ = window.context.project.load_all()
    clash = out / f"{anns[0].image_path.stem}.xml"
    clash.write_text("a person's own notes")
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getExistingDirectory", lambda *a, **k: str(out))
    said = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: said.append(text))
    monkeypatch.setattr(QMessageBox, "information", lambda _p, _t, text: said.append(text))
    window.export("voc")
    assert said and "did not write" in said[0] and clash.read_text() == "a person's own notes"
    assert sorted(p.name for p in out.iterdir()) == [clash.name]
    fresh = tmp_path / "fresh"
    said.clear()
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getExistingDirectory", lambda *a, **k: str(fresh))
    window.export("voc")
    exported, _ = Project.open(fresh).load_all()
    assert sum(len(a.boxes) for a in exported) == sum(len(a.boxes) for a in anns)
    assert f"Exported {len(anns)}" in said[0]


def test_export_refuses_the_image_folder(window, monkeypatch):
    folder = window.context.project.image_dirs[0]
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getExistingDirectory", lambda *a, **k: str(folder))
    said = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: said.append(text))
    window.export("yolo")
    assert said and "another folder" in said[0]
    assert not list(folder.glob("*.txt"))


def test_open_bad_path_says_why_and_keeps_the_project(window, tmp_path, monkeypatch):
    said = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: said.append(text))
    before = window.context.project
    assert not window.open_path(str(tmp_path / "missing"))
    assert "missing" in said[0]
    assert window.context.project is before


def test_open_folder_switches_project_and_remembers_it(window, demo_copy, tmp_path):
    import shutil
    other = tmp_path / "other"
    shutil.copytree(demo_copy / "images", other)
    assert window.open_path(str(other))
    assert window.labeller.project.root == other
    assert window.labeller.current_path().parent == other
    assert str(other) in recent_projects()


def test_close_asks_every_panel(window, monkeypatch):
    training = window.panels[2]
    monkeypatch.setattr(training, "may_close", lambda: False, raising=False)
    assert not window.close()
    monkeypatch.setattr(training, "may_close", lambda: True, raising=False)
    assert window.close()


def test_project_file_is_saved_by_save(window, demo_copy):
    window.context.project.val_fraction = 0.3
    window.save_all()
    assert json.loads((demo_copy / "yolo_studio.json").read_text())["val_fraction"] == 0.3


def test_show_image_request_from_another_panel_opens_the_label_tab(window):
    target = window.labeller.browser.model.paths()[7]
    window.tabs.setCurrentIndex(1)
    window.context.showImageRequested.emit(str(target))
    assert window.tabs.currentWidget() is window.labeller
    assert window.labeller.current_path() == target


def test_run_app_opens_the_demo_project_at_its_first_image(qtbot, demo_copy, monkeypatch):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from yolo_studio.gui.app import run_app
    monkeypatch.setattr("yolo_studio.core.demo.ensure_demo_project", lambda: demo_copy)
    seen = {}

    def look_and_quit():
        window = next(w for w in QApplication.topLevelWidgets()
                      if isinstance(w, MainWindow) and w.isVisible()
                      and w.context.project is not None and w.context.project.root == demo_copy)
        seen["image"] = window.labeller.current_path()
        seen["boxes"] = len(window.labeller.annotation().boxes)
        window.close()
        QApplication.instance().quit()

    app = QApplication.instance()
    style_sheet, style = app.styleSheet(), app.style().name()
    QTimer.singleShot(0, look_and_quit)
    try:
        assert run_app(None) == 0
    finally:  # run_app styles the whole application; leave other tests as they were
        app.setStyleSheet(style_sheet)
        app.setStyle(style)
    assert seen["image"] == sorted((demo_copy / "images").glob("*.jpg"))[0]
    assert seen["boxes"] == len(Project.open(demo_copy).load_annotation(seen["image"]).boxes)


def test_where_am_i_stays_in_the_status_bar_and_the_title_names_the_file(qtbot, window):
    from PySide6.QtWidgets import QToolButton

    labeller = window.labeller
    window.activateWindow()  # shortcuts fire only in the active window
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    labeller.canvas.setFocus()
    qtbot.keyClick(labeller.canvas, Qt.Key_D)
    image = labeller.current_path()
    assert "image 2 of 48" in window.location.text() and image.name in window.location.text()
    assert str(image) in window.windowTitle()
    # A timed message (or hovering a toolbar button, which shows its tip there) covers only
    # the temporary part; the location is a permanent widget and keeps its text.
    window.context.statusMessage.emit("Saved.")
    button = labeller.findChild(QToolButton)
    qtbot.mouseMove(button)
    window.statusBar().clearMessage()
    assert window.location.isVisible() and "image 2 of 48" in window.location.text()
    was_verified = labeller.annotation().verified
    assert window.location.text().endswith("verified") == was_verified
    qtbot.keyClick(labeller.canvas, Qt.Key_Space)
    assert window.location.text().endswith("verified") != was_verified


def test_the_session_is_restored_on_the_next_start(qtbot, demo_copy, monkeypatch, tmp_path):
    from yolo_studio.gui.app import open_start_project

    first = MainWindow(AppContext(Project.open(demo_copy)))
    qtbot.addWidget(first)
    first.resize(1200, 800)
    first.show()
    qtbot.waitExposed(first)
    browser = first.labeller.browser
    qtbot.keyClicks(browser.search, "_001")              # name filter: demo_0010 .. demo_0019
    browser.view.setFocus()
    qtbot.keyClick(browser.view, Qt.Key_Down)
    qtbot.keyClick(browser.view, Qt.Key_Down)
    image = first.labeller.current_path()
    assert image.name == "demo_0012.jpg"
    first.labeller.splitter.setSizes([420, 600, 180])
    sizes = first.labeller.splitter.sizes()
    preview = first.panels[3]
    preview.source_picker.set_kind("video")
    preview.source_picker.video_path.setText(str(tmp_path / "clip.avi"))
    preview.source_picker.loop.setChecked(True)
    model = tmp_path / "model.weights.h5"
    model.write_bytes(b"")
    preview.model_picker.choose_file(model)
    preview.score_slider.setValue(0.32)
    bar = first.tabs.tabBar()
    qtbot.mouseClick(bar, Qt.LeftButton, pos=bar.tabRect(3).center())
    first.close()

    again = MainWindow(AppContext(open_start_project(None)))   # no project given: the last one
    qtbot.addWidget(again)
    again.resize(1200, 800)
    again.show()
    qtbot.waitExposed(again)
    assert again.context.project.root == demo_copy
    assert again.tabs.currentIndex() == 3
    assert again.labeller.current_path() == image
    assert again.labeller.browser.search.text() == "_001"
    assert again.labeller.browser.shown_count() == 10
    assert again.labeller.splitter.sizes()[0] == sizes[0]
    p = again.panels[3]
    assert p.source_picker.current_kind() == "video"
    assert p.source_picker.video_path.text() == str(tmp_path / "clip.avi")
    assert p.source_picker.loop.isChecked()
    assert p.model_picker.combo.currentData() == ("file", str(model))
    assert p.score_slider.value() == 0.32


def test_show_in_labeller_from_the_anchors_view_selects_the_box(qtbot, window):
    anchors = window.panels[1]
    bar = window.tabs.tabBar()
    qtbot.mouseClick(bar, Qt.LeftButton, pos=bar.tabRect(1).center())
    qtbot.waitUntil(lambda: anchors.result is not None and not anchors.is_running(), timeout=60000)
    i = len(anchors.result.refs) // 2
    image, box_index = anchors.result.refs[i]
    anchors.select_box(i)
    qtbot.mouseClick(anchors.show_button, Qt.LeftButton)
    assert window.tabs.currentWidget() is window.labeller
    assert window.labeller.current_path() == image
    assert window.labeller.canvas.selected_indices() == [box_index]
