"""Atomic saves: a failed write keeps the old file; saved files keep normal permissions."""
import os
import stat

import pytest

from yolo_studio.core.atomic import atomic_write_text


def test_new_file_is_readable_by_others_like_a_plain_open(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.xml", "<annotation/>")
    finally:
        os.umask(old)
    mode = stat.S_IMODE(os.stat(tmp_path / "a.xml").st_mode)
    assert mode == 0o644


def test_replacing_keeps_the_existing_files_mode(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    os.chmod(target, 0o640)
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640


def test_a_crash_before_the_rename_leaves_the_old_file_and_no_temporaries(tmp_path, monkeypatch):
    target = tmp_path / "a.txt"
    target.write_text("old labels")

    def crash(*_):
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        atomic_write_text(target, "new labels")
    assert target.read_text() == "old labels"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads the umask from /proc")
def test_a_new_files_mode_is_found_without_setting_the_umask_to_zero(tmp_path, monkeypatch):
    # The COCO column cache is written on a thread of its own: setting the umask to 0 to read it
    # would, for that moment, make any file or folder another thread creates writable by anyone.
    old = os.umask(0o027)
    calls = []
    real = os.umask
    monkeypatch.setattr(os, "umask", lambda m: calls.append(m) or real(m))
    try:
        atomic_write_text(tmp_path / "a.xml", "<annotation/>")
    finally:
        real(old)
    assert calls == [] and stat.S_IMODE(os.stat(tmp_path / "a.xml").st_mode) == 0o640
