"""Frame sources: real video files and folders written here, cameras that are absent or vanish."""
from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest

from yolo_studio.core.sources import (CameraSource, FolderSource, Frame, LatestFrame, SourceEnded,
                                      SourceError, VideoSource, list_cameras, open_source)


def write_video(path, n=6, size=(96, 64), fps=30):
    """An MJPG .avi whose frame i is filled with grey level 30*i."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    for i in range(n):
        writer.write(np.full((size[1], size[0], 3), 30 * i, np.uint8))
    writer.release()
    return path


def test_video_plays_every_frame_in_order_then_ends(tmp_path):
    src = VideoSource(write_video(tmp_path / "clip.avi"), realtime=True)
    with src:
        assert src.fps == pytest.approx(30.0)
        assert src.interval == pytest.approx(1 / 30)
        frames = [src.read() for _ in range(6)]
        with pytest.raises(SourceEnded):
            src.read()
    assert [f.index for f in frames] == list(range(6))
    assert frames[0].image.shape == (64, 96, 3)
    # MJPG is lossy, so compare grey levels loosely.
    levels = [int(f.image.mean()) for f in frames]
    assert all(abs(lv - 30 * i) <= 4 for i, lv in enumerate(levels))


def test_video_loops_when_asked(tmp_path):
    src = VideoSource(write_video(tmp_path / "clip.avi", n=3), loop=True, realtime=False)
    with src:
        assert src.interval is None
        levels = [int(src.read().image.mean()) for _ in range(7)]
    assert abs(levels[3] - levels[0]) <= 4 and abs(levels[6] - levels[0]) <= 4


def test_missing_and_broken_videos_name_the_file(tmp_path):
    with pytest.raises(SourceError, match="not found") as e:
        VideoSource(tmp_path / "nope.avi").open()
    assert "nope.avi" in str(e.value)
    bad = tmp_path / "notes.avi"
    bad.write_text("this is not a video")
    with pytest.raises(SourceError, match="notes.avi"):
        src = VideoSource(bad)
        src.open()
        src.read()


def test_folder_plays_images_in_name_order_and_skips_broken_ones(tmp_path):
    for i, name in enumerate(["b.png", "a.jpg", "c.bmp"]):
        cv2.imwrite(str(tmp_path / name), np.full((32, 48, 3), 50 * (i + 1), np.uint8))
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    (tmp_path / "readme.txt").write_text("ignored")
    src = FolderSource(tmp_path, interval=0.0)
    with src:
        names = [src.read().name for _ in range(3)]
        with pytest.raises(SourceEnded):
            src.read()
    assert names == ["a.jpg", "b.png", "c.bmp"]
    assert [p.name for p in src.skipped] == ["broken.png"]


def test_empty_or_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(SourceError, match="no images"):
        FolderSource(tmp_path).open()
    with pytest.raises(SourceError, match="folder not found"):
        FolderSource(tmp_path / "gone").open()


def test_absent_camera_index_gives_a_message():
    with pytest.raises(SourceError, match="Camera 57 cannot be opened"):
        CameraSource(57).open()


class _VanishingCapture:
    """Stands in for a USB camera that delivers two frames and is then unplugged."""

    def __init__(self, index):
        self.frames = 2
        self.released = False

    def isOpened(self):
        return True

    def read(self):
        if self.frames > 0:
            self.frames -= 1
            return True, np.zeros((48, 64, 3), np.uint8)
        return False, None

    def release(self):
        self.released = True


def test_camera_that_disappears_mid_stream_raises_source_error():
    src = CameraSource(0, capture_factory=_VanishingCapture)
    src.open()
    cap = src._cap
    assert src.read().image.shape == (48, 64, 3)
    src.read()
    with pytest.raises(SourceError, match="stopped delivering frames"):
        src.read()
    src.close()
    assert cap.released


def test_list_cameras_reports_only_openable_indices():
    class Fake(_VanishingCapture):
        def __init__(self, index):
            super().__init__(index)
            self.index = index

        def isOpened(self):
            return self.index in (0, 2)

    assert list_cameras(max_index=4, capture_factory=Fake) == [0, 2]
    # On this machine there is no camera: the real probe must say so, quickly.
    assert list_cameras(max_index=2) == []


def test_open_source_rejects_bad_kinds_and_indices(tmp_path):
    with pytest.raises(SourceError, match="not a number"):
        open_source("camera", "front")
    with pytest.raises(SourceError, match="Unknown source kind"):
        open_source("screen", 0)
    assert isinstance(open_source("video", tmp_path / "x.avi"), VideoSource)


def _frame(i):
    return Frame(np.zeros((2, 2, 3), np.uint8), i, 0.0, 0.0)


def test_mailbox_keeps_only_the_newest_frame_and_counts_drops():
    box = LatestFrame()
    for i in range(5):
        box.put(_frame(i))
    assert box.take(timeout=0).index == 4
    assert box.dropped == 4 and box.put_count == 5
    assert box.take(timeout=0.01) is None  # nothing new since


def test_mailbox_close_wakes_a_waiting_reader():
    box = LatestFrame()
    got = []
    reader = threading.Thread(target=lambda: got.append(box.take(timeout=5)))
    reader.start()
    box.close()
    reader.join(2)
    assert not reader.is_alive() and got == [None]


def test_grab_skips_frames_without_decoding_and_knows_the_last_one(tmp_path):
    src = VideoSource(write_video(tmp_path / "clip.avi", n=4))
    with src:
        src.grab()
        src.grab()
        frame = src.retrieve()  # only the frame grabbed last is decoded
        assert frame.index == 1 and abs(int(frame.image.mean()) - 30) <= 4
        assert not src.at_last_frame()
        src.grab()
        src.grab()
        assert src.at_last_frame()
        assert src.retrieve().index == 3


def test_motion_jpeg_frames_are_skipped_without_decoding_and_others_still_play(tmp_path, monkeypatch):
    """A Motion-JPEG frame dropped by a slow model costs its read, not a JPEG decode."""
    decodes = []
    real_imdecode = cv2.imdecode
    monkeypatch.setattr(cv2, "imdecode", lambda *a: decodes.append(1) or real_imdecode(*a))
    src = VideoSource(write_video(tmp_path / "clip.avi", n=6), loop=True)
    with src:
        assert src.raw_jpeg
        decodes.clear()                           # the check at open decoded frame 0 once
        for _ in range(5):
            src.grab()
        frame = src.retrieve()
        assert len(decodes) == 1
        assert frame.index == 4 and frame.image.shape == (64, 96, 3)
        assert abs(int(frame.image.mean()) - 120) <= 4
        src.grab()
        src.grab()                                # past the end: loops to frame 0
        assert abs(int(src.retrieve().image.mean()) - 0) <= 4
    # A codec whose frames depend on earlier ones is decoded frame by frame, as before.
    writer = cv2.VideoWriter(str(tmp_path / "clip.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 30, (96, 64))
    for i in range(4):
        writer.write(np.full((64, 96, 3), 60 * i, np.uint8))
    writer.release()
    with VideoSource(tmp_path / "clip.mp4", realtime=False) as mp4:
        assert not mp4.raw_jpeg
        levels = [int(mp4.read().image.mean()) for _ in range(4)]
    assert all(abs(lv - 60 * i) <= 6 for i, lv in enumerate(levels))


def test_mailbox_says_a_waiting_frame_is_recent_for_half_the_readers_pace():
    import time

    box = LatestFrame()
    now = time.perf_counter()
    box.put(Frame(np.zeros((2, 2, 3), np.uint8), 0, now, 0.0))
    assert not box.holds_recent(now)              # no pace known yet: always prepare the newest
    for i in range(3):                            # a reader taking a frame every 0.1 s
        box._note_take(now + 0.1 * i)
    box.put(Frame(np.zeros((2, 2, 3), np.uint8), 1, now, 0.0))
    assert box.holds_recent(now + 0.04)           # 40 ms old, the reader comes every 100 ms
    assert not box.holds_recent(now + 0.06)       # older than half its pace: make a newer one
    box.take(timeout=0)
    assert not box.holds_recent(now)              # nothing waiting


def test_mailbox_tells_the_grabber_when_a_reader_waits():
    box = LatestFrame()
    assert not box.wanted()
    reader = threading.Thread(target=lambda: box.take(timeout=5))
    reader.start()
    assert box.wait_wanted(timeout=5)
    box.put(_frame(7))
    reader.join(2)
    assert not reader.is_alive() and not box.wanted()
    box.skipped()
    assert box.dropped == 1


def test_folder_skips_an_image_whose_header_claims_60000_px_and_names_it(tmp_path, forge_header_size):
    """Review row 56 (R5): the folder source used to stop with a raw cv2.error."""
    for name in ("a.jpg", "b.jpg"):
        cv2.imwrite(str(tmp_path / name), np.full((32, 48, 3), 90, np.uint8))
    forge_header_size(tmp_path / "a.jpg", 60000, 60000)
    with FolderSource(tmp_path, interval=0.0) as src:
        assert src.read().name == "b.jpg"
    assert [p.name for p in src.skipped] == ["a.jpg"]
    assert "a.jpg" in src.problems[tmp_path / "a.jpg"] and "60000x60000" in src.problems[tmp_path / "a.jpg"]


def test_mailbox_learns_the_readers_pace_to_say_when_it_will_want_a_frame():
    import time

    box = LatestFrame()
    assert not box.want_expected(by=time.perf_counter() + 60)   # no pace known yet
    for i in range(3):
        box.put(_frame(i))
        assert box.take(timeout=0).index == i
    now = time.perf_counter()
    assert box.want_expected(by=now + 60)        # back within a minute at its pace
    assert not box.want_expected(by=now - 60)    # not before it last took one
