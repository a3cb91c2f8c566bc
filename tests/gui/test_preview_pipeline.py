"""The preview's grabber prepares the next frame while the model runs on the current one."""
from __future__ import annotations

import threading
import time

import cv2
import numpy as np

from yolo_studio.core.detector import Detector
from yolo_studio.core.model import ModelSpec, build_model
from yolo_studio.core.sources import LatestFrame, VideoSource
from yolo_studio.gui.preview.pipeline import FramePrep, GrabWorker, ReadyFrame


def write_video(path, n=200, fps=60, size=(128, 96)):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    for i in range(n):
        writer.write(np.full((size[1], size[0], 3), i % 250, np.uint8))
    writer.release()
    return path


def test_the_next_frame_is_ready_when_a_slow_model_comes_back_and_it_is_recent(tmp_path):
    """A model slower than the video finds a prepared frame waiting instead of waiting for a decode."""
    mailbox, stop, prep = LatestFrame(), threading.Event(), FramePrep()
    prep.detector = Detector.from_model(build_model("yolov3-tiny", 3, 64), ModelSpec("yolov3-tiny", 3, 64))
    prep.display_size = (64, 48)
    source = VideoSource(write_video(tmp_path / "clip.avi"), loop=True)
    grabber = GrabWorker(source, mailbox, stop, prep=prep)
    thread = threading.Thread(target=grabber.work)
    thread.start()
    ready, taken = 0, []
    try:
        assert mailbox.take(timeout=10) is not None
        for _ in range(12):
            time.sleep(0.15)                       # "the model": much slower than the 60 fps video (margin for a loaded machine)
            item = mailbox.take(timeout=0)         # a frame is there already?
            ready += item is not None
            item = item or mailbox.take(timeout=10)
            taken.append(item)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert all(isinstance(t, ReadyFrame) for t in taken)
    assert taken[-1].prepared.batch.shape == (1, 64, 64, 3) and taken[-1].display.shape == (48, 64, 3)
    # The old grabber decoded only once the model had come back, so none was ever ready.
    assert ready >= 8, f"a prepared frame was waiting {ready} times of 12"
    # Newest wins: frames were dropped, never queued (each one taken is later than the last).
    indices = [t.frame.index for t in taken]
    assert indices == sorted(indices) and indices[-1] - indices[0] > len(indices)


def test_a_model_late_by_a_few_ms_costs_no_extra_frame_preparation(tmp_path):
    """Frames a model comes back a little late for are not each decoded and letterboxed again.

    The model here alternates 60 and 100 ms, so it is often 20 ms later than its pace
    says; the grabber used to prepare a newer frame every 17 ms until it came back.
    """
    prepared = []

    class CountingPrep(FramePrep):
        def __call__(self, frame):
            prepared.append(frame.index)
            return super().__call__(frame)

    mailbox, stop, prep = LatestFrame(), threading.Event(), CountingPrep()
    prep.detector = Detector.from_model(build_model("yolov3-tiny", 3, 64), ModelSpec("yolov3-tiny", 3, 64))
    source = VideoSource(write_video(tmp_path / "clip.avi"), loop=True)
    grabber = GrabWorker(source, mailbox, stop, prep=prep)
    thread = threading.Thread(target=grabber.work)
    thread.start()
    taken = []
    try:
        assert mailbox.take(timeout=10) is not None
        for i in range(12):
            time.sleep(0.06 if i % 2 else 0.10)
            taken.append(mailbox.take(timeout=10))
    finally:
        stop.set()
        thread.join(10)
    assert all(isinstance(t, ReadyFrame) for t in taken)
    assert len(prepared) <= len(taken) + 3, f"{len(prepared)} frames prepared for {len(taken) + 1} taken"
