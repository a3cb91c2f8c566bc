"""The entry point: which words open the GUI and which run a subcommand."""
from __future__ import annotations

from yolo_studio import cli


def _opened_with(monkeypatch, argv):
    seen = []
    monkeypatch.setattr("yolo_studio.commands.gui.run", lambda args: seen.append(args.project) or 0)
    assert cli.main(argv) == 0
    return seen


def test_a_project_folder_alone_opens_the_gui_on_it(monkeypatch, tmp_path):
    # The README promises `yolo-studio PROJECT`; it used to fail as "invalid choice".
    assert _opened_with(monkeypatch, [str(tmp_path)]) == [str(tmp_path)]


def test_no_arguments_and_the_explicit_gui_word_open_the_gui(monkeypatch, tmp_path):
    assert _opened_with(monkeypatch, []) == [None]
    assert _opened_with(monkeypatch, ["gui", str(tmp_path)]) == [str(tmp_path)]


def test_a_subcommand_name_still_runs_the_subcommand(monkeypatch, tmp_path):
    ran = []
    monkeypatch.setattr("yolo_studio.commands.gui.run", lambda args: ran.append("gui") or 0)
    assert cli.main(["demo", str(tmp_path / "d"), "--images", "1"]) == 0
    assert ran == [] and (tmp_path / "d" / "yolo_studio.json").is_file()
