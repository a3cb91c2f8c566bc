"""The one pattern for background work in the GUI.

A worker is a QObject with a ``run()`` slot and a ``finished`` signal. It is
moved to its own QThread; the wiring below follows superqt's
``new_worker_qthread``: thread.started -> worker.run, worker.finished ->
thread.quit. Instead of superqt's deleteLater on both, the thread is held in
a module-level set until it finishes, so Python can never collect a running
QThread and the objects stay valid (``isRunning()`` is always safe to call). Results travel as Qt signals,
which are queued across threads, so slots on the GUI side run on the GUI
thread. Stopping is cooperative (a threading.Event the work checks); a thread
is never killed.
"""
from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal


class Worker(QObject):
    """Base class: subclass, implement ``work()``; errors become ``failed(str)``."""

    finished = Signal()
    failed = Signal(str)

    def run(self) -> None:
        try:
            self.work()
        except Exception as e:  # shown to the user; the GUI must survive any error
            self.failed.emit(f"{type(e).__name__}: {e}" if not str(e) else str(e))
        finally:
            self.finished.emit()

    def work(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


# Threads still running, kept alive here so that a caller dropping its
# reference can never garbage-collect a running QThread (which aborts Qt).
_RUNNING: set[QThread] = set()


class _Reaper(QObject):
    """Lets go of finished threads on the GUI thread, never on their own.

    ``QThread.finished`` is emitted by the ending thread itself, before it has
    returned; a plain function connected to it runs there. If dropping the
    thread from ``_RUNNING`` there released its last reference, the QThread
    would be destroyed from inside itself while still running (a crash, seen
    once when a running preview was restarted under load). Queued to this
    object, the release runs in the GUI thread's event loop, after a
    ``wait()`` that returns at once for a thread that has finished.
    """

    ended = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.ended.connect(self.release, Qt.ConnectionType.QueuedConnection)

    def release(self, thread: QThread) -> None:
        """Forget ``thread`` (it has finished; wait() only lets it return from run)."""
        thread.wait()
        _RUNNING.discard(thread)


_REAPER: list[_Reaper] = []


def _reaper() -> _Reaper:
    """The one reaper, living in the application's (GUI) thread."""
    if not _REAPER:
        reaper = _Reaper()
        app = QCoreApplication.instance()
        if app is not None:
            reaper.moveToThread(app.thread())
        _REAPER.append(reaper)
    return _REAPER[0]


def start_worker(worker: QObject, name: str = "worker") -> QThread:
    """Move ``worker`` to a new QThread, wire its lifetime, start it, return the thread.

    The caller may keep the thread to ``wait()`` on it at shutdown. Both
    objects stay valid Python objects after the thread finishes (no
    deleteLater on the thread), so ``thread.isRunning()`` is always safe.
    """
    thread = QThread()
    thread.setObjectName(name)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    # Direct: QThread.quit is thread-safe, and a queued call would only reach
    # the GUI thread's event loop, so threads could not end while it is busy.
    worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    _RUNNING.add(thread)
    reaper = _reaper()
    # Runs on the ending thread: it only posts the thread to the reaper.
    thread.finished.connect(lambda t=thread: reaper.ended.emit(t), Qt.ConnectionType.DirectConnection)
    # Keep the worker alive as long as its thread object.
    thread._worker = worker  # type: ignore[attr-defined]
    thread.start()
    return thread


def running_threads() -> list[QThread]:
    """Threads started by :func:`start_worker` that have not finished yet."""
    return [t for t in _RUNNING if t.isRunning()]
