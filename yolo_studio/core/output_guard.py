"""The one rule for every command that writes files (export, detect, convert, eval).

A command that writes refuses a target that already holds anything it did
not write itself, unless ``--overwrite`` is given; even then it replaces
only its own earlier outputs, and never a file a person made or changed.
It never writes into a YOLO Studio project (its images and labels are the
user's work; projects change through their own API), and it never deletes a
folder.

"Its own outputs" are recognised by a small manifest kept in the output
folder (:data:`MANIFEST`): the relative path, size and modification time of
each file a command wrote there. A file whose size or time has changed since
(a person verified the pre-labels, replaced an image) is no longer ours.
A single file the user names on the command line (``--out model.tflite``,
``convert ... out.json``) is replaced only with ``--overwrite``: naming it
and passing the flag is the consent.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from .atomic import atomic_write_text
from .errors import ConfigError, YoloStudioError
from .external_dirs import owners
from .project import PROJECT_FILE, Project

MANIFEST = ".yolo_studio_outputs.json"
_SHOWN = 5


class OutputRefused(ConfigError):
    """A writer found something it did not make in its way, and wrote nothing."""


def _stamp(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def _show(paths) -> str:
    paths = sorted(str(p) for p in paths)
    more = f" and {len(paths) - _SHOWN} more" if len(paths) > _SHOWN else ""
    return ", ".join(paths[:_SHOWN]) + more


def project_using(folder: str | Path) -> Path | None:
    """The root of a YOLO Studio project whose root or image folder ``folder`` is, or None.

    Looks at the folder and each folder above it for a yolo_studio.json; only
    the project root and its image folders hold the project's files (image
    folders are not searched recursively), so other subfolders, like runs/,
    are fair places for outputs.
    """
    # Real paths: a symlink to a project's image folder is that folder.
    folder = Path(os.path.realpath(folder))
    for root in (folder, *folder.parents):
        if not (root / PROJECT_FILE).is_file():
            continue
        if folder == root:
            return root
        try:
            dirs = Project.open(root).image_dirs
        except YoloStudioError:
            return root        # an unreadable project file: assume the worst
        if any(Path(os.path.realpath(d)) == folder for d in dirs):
            return root
    known = owners(folder)     # an image folder outside its project's root
    return known[0] if known else None


def dataset_using(folder: str | Path) -> Path | None:
    """The root of another tool's dataset (ultralytics, VOC devkit, COCO) that ``folder`` is part of
    as its root, a data folder (images/, labels/, Annotations/, ...) or a folder holding its images.

    A folder beside them that holds no images (runs/, a model's cache) is a fair
    place for outputs; so is a dataset this tool wrote itself (its data.yaml or
    instances files are listed in the root's output manifest: convert run again).
    """
    from .datasets.detect import DATA_FOLDER_NAMES, marker_files
    from .images import is_image_file

    folder = Path(os.path.realpath(folder))
    for root in (folder, *folder.parents):
        markers = marker_files(root)
        if not markers:
            continue
        own = _manifest(root)
        if all(own.get(Path(os.path.relpath(m, root)).as_posix()) == _stamp_or_none(m) for m in markers):
            return None      # our own converted dataset
        inner = folder.relative_to(root).parts
        if not inner or any(p.lower() in DATA_FOLDER_NAMES for p in inner):
            return root
        here = _manifest(folder)
        try:
            names = [e.name for e in os.scandir(folder) if e.is_file()]
        except OSError:
            names = []
        if any(is_image_file(n) and here.get(n) != _stamp_or_none(folder / n) for n in names):
            return root
        return None
    return None


def refuse_project(folder: str | Path, command: str, hint: str = "") -> None:
    """OutputRefused when ``folder`` is a YOLO Studio project's root or image folder, or part of
    another tool's dataset (:func:`dataset_using`): writing there would add files to the dataset."""
    root = project_using(folder)
    if root is not None:
        raise OutputRefused(f"{folder} holds the images and labels of the YOLO Studio project {root}; "
                            f"{command} never writes there (they are someone's work), so choose another "
                            f"folder{hint}")
    root = dataset_using(folder)
    if root is not None:
        raise OutputRefused(f"{folder} is part of the dataset {root} (its images, labels or split "
                            f"lists); {command} never writes there, even when asked to overwrite, because its "
                            f"files would join the dataset; choose a folder outside it, or one beside "
                            f"its data such as {root / 'runs'}{hint}")


def _manifest(folder: Path) -> dict[str, list[int]]:
    """{relative path: [size, mtime_ns]} of the files a command wrote in ``folder`` ({} if none)."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        own = {str(k): [int(v[0]), int(v[1])] for k, v in data["files"].items()}
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return {}    # no manifest, or one we cannot trust: nothing counts as ours
    # Only plain paths below the folder: a manifest that came with a
    # downloaded folder must not make anything outside it "ours".
    return {k: v for k, v in own.items()
            if k and not Path(k).is_absolute() and ".." not in Path(k).parts}


def _stamp_or_none(path: Path) -> list[int] | None:
    try:
        return _stamp(path) if path.is_file() else None
    except OSError:
        return None


class OutputFolder:
    """A folder a command fills with files; refuses to replace what it did not write.

    Use: ``out = OutputFolder(dst, "detect", overwrite)``, then ``out.check(names)``
    with every relative path it will write (before writing any), ``out.record(path)``
    for each file written, and ``out.close()`` to keep the manifest.
    """

    def __init__(self, folder: str | Path, command: str, overwrite: bool = False):
        self.folder = Path(os.path.abspath(folder))
        self.command = command
        self.overwrite = overwrite
        if self.folder.exists() and not self.folder.is_dir():
            raise OutputRefused(f"{folder}: is a file; {command} writes a folder here, so choose "
                                f"another path (the file is left as it is)")
        self._own = self._read_manifest()
        self._written: dict[str, list[int]] = dict(self._own)
        self._fresh: set[str] = set()      # written by this run

    def _read_manifest(self) -> dict[str, list[int]]:
        return _manifest(self.folder)

    def is_own(self, rel: str) -> bool:
        """True when ``rel`` is a file this folder's manifest says we wrote, unchanged since."""
        path = self.folder / rel
        try:
            return path.is_file() and self._own.get(rel) == _stamp(path)
        except OSError:
            return False

    def foreign(self, limit: int | None = None) -> list[str]:
        """Relative paths of files in the folder that we did not write (or that changed since).

        Stops after ``limit`` of them: ``--out ~`` must not walk a whole home folder.
        """
        if not self.folder.is_dir():
            return []
        found = []
        # Empty folders hold no one's work, so only files count.
        for dirpath, dirnames, filenames in os.walk(self.folder):
            # A linked folder is not walked into, yet writing below it writes into its target,
            # which may hold anyone's files: the link itself is in the way.
            links = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
            for name in links + filenames:
                rel = Path(os.path.relpath(os.path.join(dirpath, name), self.folder)).as_posix()
                if rel != MANIFEST and not self.is_own(rel):
                    found.append(rel)
                    if limit is not None and len(found) >= limit:
                        return found
        return found

    def check(self, rels) -> None:
        """Refuse (writing nothing) unless every path in ``rels`` may be written.

        Without --overwrite the folder must hold nothing but our own outputs;
        with it, other files may stay beside ours, but none of ``rels`` may be one.
        """
        if not self.is_own(PROJECT_FILE):    # a project this command made itself may be made again
            refuse_project(self.folder, self.command)
        foreign = [] if self.overwrite else self.foreign(limit=_SHOWN)
        if foreign:
            raise OutputRefused(
                f"{self.folder}: already holds files {self.command} did not write ({_show(foreign)}"
                f"{', ...' if len(foreign) >= _SHOWN else ''}); "
                f"choose a new or empty folder, or pass --overwrite to write beside them "
                f"(files that are not {self.command}'s own are never replaced)")
        blocked = [r for r in rels if (self.folder / r).exists() and not self.is_own(r)]
        if blocked:
            raise OutputRefused(
                f"{self.folder}: {self.command} would replace {len(blocked)} file(s) it did not write "
                f"({_show(blocked)}); nothing was written. Move them away or choose another folder")

    def path(self, rel: str) -> Path:
        return self.folder / rel

    def keep(self, path: str | Path) -> None:
        """Note that this run still wants ``path`` (an earlier output left as it is), if it is ours."""
        rel = Path(os.path.relpath(os.path.abspath(path), self.folder)).as_posix()
        if self.is_own(rel):
            self._fresh.add(rel)

    def record(self, path: str | Path) -> None:
        """Note a file we have just written (its size and time make it ours)."""
        rel = Path(os.path.relpath(os.path.abspath(path), self.folder)).as_posix()
        self._written[rel] = _stamp(Path(path))
        self._fresh.add(rel)

    def remove_stale(self) -> list[str]:
        """Delete our own earlier outputs that this run did not write again (unchanged ones only).

        For a writer whose folder must be exactly one dataset (convert): a file
        from an earlier run whose image is gone would otherwise linger in it.
        """
        stale = [rel for rel in self._own if rel not in self._fresh and self.is_own(rel)]
        for rel in stale:
            (self.folder / rel).unlink()
            del self._written[rel]
        return stale

    def close(self) -> None:
        """Save the manifest (atomically), listing every file of ours still present."""
        files = {k: v for k, v in sorted(self._written.items()) if k in self._fresh or self.is_own(k)}
        if not files:
            return
        atomic_write_text(self.folder / MANIFEST,
                          json.dumps({"written_by": f"yolo-studio {self.command}", "files": files},
                                     indent=1) + "\n")


def check_new_files(paths, command: str, overwrite: bool) -> None:
    """Refuse (naming them) files that exist, unless ``overwrite``; never a folder in their place.

    For outputs that are single files named by the user: passing --overwrite
    for a file you named is the consent to replace it.
    """
    paths = [Path(p) for p in paths]
    folders = [p for p in paths if p.is_dir()]
    if folders:
        raise OutputRefused(f"{_show(folders)}: is a folder; {command} writes a file there, so choose "
                            f"another path (the folder is left as it is)")
    existing = [p for p in paths if p.exists() or p.is_symlink()]
    if existing and not overwrite:
        raise OutputRefused(f"{_show(existing)}: already exists; pass --overwrite to replace it, "
                            f"or choose another path")
