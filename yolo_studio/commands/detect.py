"""``yolo-studio detect --weights W SOURCE``: run a model on images, a folder, a video or a camera."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from yolo_studio.commands.model_args import add_backend_argument, add_model_args, add_threshold_args
from yolo_studio.core.defaults import DEFAULT_SCORE_THRESHOLD
from yolo_studio.core.errors import ConfigError

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".webm", ".mpg", ".mpeg", ".wmv")
# OpenCV takes a C int; larger numbers are not cameras (and overflow inside OpenCV).
MAX_CAMERA_INDEX = 2**31 - 1
PROJECT_HINT = (" (to pre-label into a project, use --project PROJECT, or Labeller > Pre-label… in the "
                "app: both add unverified boxes and never replace a person's)")


def add_parser(sub, name: str) -> argparse.ArgumentParser:
    """Register the ``detect`` subcommand."""
    p = sub.add_parser(name, help="detect objects in an image, folder, video file or camera",
                       description="Run a trained model (YOLO Studio checkpoint, darknet "
                                   ".weights + .cfg, or an exported SavedModel) and write "
                                   "annotated images/video to --out.")
    p.add_argument("source", help="image file, folder of images, video file, or camera index (0, 1, ...)")
    add_model_args(p)
    add_threshold_args(p, DEFAULT_SCORE_THRESHOLD)
    p.add_argument("--max-det", type=int, default=100, help="most detections per image (default 100)")
    p.add_argument("--out", default="detections",
                   help="output folder (default ./detections); it must be new, empty or hold only "
                        "earlier detect outputs, and never a project's image folder")
    p.add_argument("--overwrite", action="store_true",
                   help="write into a --out folder that holds other files too (files detect did not "
                        "write are still never replaced)")
    p.add_argument("--save-labels", choices=("voc", "yolo"),
                   help="also write the detections as label files in --out (pre-labels for the labeller)")
    p.add_argument("--project",
                   help="pre-label into this project instead of writing --out: its own images get "
                        "unverified predicted boxes beside (never over) a person's; other images are "
                        "added to it first, under a name no file has yet")
    p.add_argument("--precision", choices=("float32", "bfloat16", "auto"), default="float32",
                   help="bfloat16 runs 1.4-2.3x faster on CPUs with AVX-512-BF16, scores within "
                        "a few hundredths; auto uses it where the CPU has it (default float32)")
    add_backend_argument(p)
    p.add_argument("--max-frames", type=int, default=0,
                   help="stop a video or camera after this many frames (default: all / until Ctrl-C)")
    return p


def _check_args(args) -> None:
    if not 0.0 <= args.conf <= 1.0:
        raise ConfigError(f"--conf must be between 0 and 1, got {args.conf}")
    if not 0.0 < args.iou <= 1.0:
        raise ConfigError(f"--iou must be in (0, 1], got {args.iou}")
    if args.max_det < 1:
        raise ConfigError(f"--max-det must be at least 1, got {args.max_det}")


def run(args) -> int:
    """Check the source and the output folder first (fast), then load the model once and walk the source."""
    from yolo_studio.core.detector import Detector
    from yolo_studio.core.output_guard import OutputFolder, refuse_project
    from yolo_studio.core.runtime.select import faster_backend

    _check_args(args)
    kind = _source_kind(args.source)
    if args.project:
        return _prelabel_project(args, kind)
    out = Path(args.out)
    images = plan = None
    if kind in ("image", "folder"):
        folder = Path(args.source) if kind == "folder" else Path(args.source).parent
        if out.resolve() == folder.resolve():
            # Annotated copies and label files would replace the originals there.
            raise ConfigError(f"--out {out} is the image folder itself; choose another folder "
                              f"so originals and their labels are not overwritten")
        images = _image_list(Path(args.source), kind)
    refuse_project(out, "detect", PROJECT_HINT)
    guard = OutputFolder(out, "detect", args.overwrite)
    if images is not None:
        plan = _plan_outputs(images, args.save_labels)
        guard.check([name for names in plan.values() for name in names])
    else:
        guard.check([_video_name(kind, args.source)])
    detector = Detector.load(args.weights, classes=args.classes, cfg=args.cfg, input_size=args.size,
                             precision=args.precision, may_convert=args.backend != "tensorflow")
    if detector.message:
        print(detector.message)
    out.mkdir(parents=True, exist_ok=True)
    try:
        with faster_backend(detector, args.backend, print):
            if images is not None:
                return _run_images(detector, plan, guard, args)
            return _run_stream(detector, kind, args.source, guard, args)
    except OSError as e:
        raise ConfigError(f"{e.filename or out}: cannot be written ({e.strerror or e})") from None
    finally:
        guard.close()


def _prelabel_project(args, kind: str) -> int:
    """Pre-label SOURCE's images into --project through the project's own path (core.prelabel)."""
    from yolo_studio.core.detector import Detector
    from yolo_studio.core.errors import YoloStudioError
    from yolo_studio.core.images import read_image
    from yolo_studio.core.prelabel import prelabel_images
    from yolo_studio.core.project import Project
    from yolo_studio.core.runtime.select import faster_backend

    if kind not in ("image", "folder"):
        raise ConfigError("--project pre-labels images (a file or a folder), not a video or camera")
    if args.save_labels:
        raise ConfigError("--project writes the project's own label format; leave out --save-labels")
    project = Project.open(args.project)
    images = _image_list(Path(args.source), kind)
    own = {p.resolve() for p in project.image_paths()}
    detector = Detector.load(args.weights, classes=args.classes, cfg=args.cfg, input_size=args.size,
                             precision=args.precision, may_convert=args.backend != "tensorflow")
    added = labelled = boxes = failed = 0
    unknown: set[str] = set()
    targets = []
    for path in images:
        try:
            if path.resolve() not in own:     # a new frame: a copy joins the project, never over a file
                targets.append((path, project.add_image(read_image(path), path.name)))
                added += 1
            else:
                targets.append((path, path))
        except (YoloStudioError, OSError) as e:
            print(f"skipped {path}: {e}")
            failed += 1
    with faster_backend(detector, args.backend, print):
        outcomes = prelabel_images(project, detector, [t for _, t in targets], args.conf, args.iou)
        for (path, target), outcome in zip(targets, outcomes):
            if outcome.problem:
                print(f"skipped {path}: {outcome.problem}")
                failed += 1
                continue
            unknown.update(outcome.unknown_classes)
            labelled += outcome.changed
            boxes += outcome.added
            print(f"{target.name}: {outcome.added} pre-labels ({outcome.kept_human} boxes of a person kept)")
    if unknown:
        print(f"left out detections of classes the project does not have: {', '.join(sorted(unknown))}")
    print(f"pre-labelled {labelled} images of {project.root} with {boxes} unverified boxes "
          f"({added} images added to it)" + (f"; {failed} skipped" if failed else ""))
    return 0 if failed < len(images) else 1


def _annotated_name(path: Path) -> str:
    keep_suffix = path.suffix.lower() in (".jpg", ".jpeg", ".png")
    return path.stem + (path.suffix if keep_suffix else ".jpg")


def _plan_outputs(images: list[Path], save_labels: str | None) -> dict[Path, list[str]]:
    """The files each image gives (annotated copy, label); images whose names clash are left out.

    ``a.jpg`` and ``a.png`` would both give ``a.xml``: the second is reported,
    never written over the first.
    """
    plan: dict[Path, list[str]] = {}
    taken: dict[str, Path] = {}
    for path in images:
        names = [_annotated_name(path)]
        if save_labels == "voc":
            names.append(path.stem + ".xml")
        elif save_labels == "yolo":   # the txt and the sidecar that keeps scores and 'predicted'
            names += [path.stem + ".txt", f".{path.stem}.yolo_studio.json"]
        clash = next((taken[n] for n in names if n in taken), None)
        if clash is not None:
            print(f"skipped {path}: its output would have the same name as {clash.name}'s")
            continue
        taken.update((n, path) for n in names)
        plan[path] = names
    if save_labels == "yolo":
        plan[Path("classes.txt")] = ["classes.txt"]   # written once, listed so it is checked too
    return plan


def _video_name(kind: str, source: str) -> str:
    return f"{'camera' + source if kind == 'camera' else Path(source).stem}_detections.mp4"


def _source_kind(source: str) -> str:
    if source.isdigit() and not Path(source).exists():
        if int(source) > MAX_CAMERA_INDEX:
            raise ConfigError(f"{source}: not a camera index (cameras are numbered 0, 1, 2, ...) "
                              f"and no such file or folder")
        return "camera"
    p = Path(source)
    if p.is_dir():
        return "folder"
    if not p.exists():
        raise ConfigError(f"{p}: no such image, folder or video (give a path, or a camera index)")
    return "video" if p.suffix.lower() in VIDEO_SUFFIXES else "image"


def _image_list(path: Path, kind: str) -> list[Path]:
    from yolo_studio.core.images import IMAGE_EXTENSIONS, list_images

    if kind == "image":
        return [path]
    images = list_images(path)
    if not images:
        raise ConfigError(f"{path}: no images in this folder (looked for {', '.join(sorted(IMAGE_EXTENSIONS))})")
    return images


def _detect(detector, image, args):
    return detector.detect(image, score_threshold=args.conf, iou_threshold=args.iou,
                           max_detections=args.max_det)


def _detect_in_batches(detector, images: list[Path], args):
    """Yield (path, image, detections, ms per image) in order, FOLDER_BATCH images per model call.

    An unreadable image yields (path, None, its ImageFileError, 0).
    """
    from yolo_studio.core.errors import ImageFileError
    from yolo_studio.core.images import read_image
    from yolo_studio.core.runtime import FOLDER_BATCH

    for start in range(0, len(images), FOLDER_BATCH):
        read = {}
        for path in images[start:start + FOLDER_BATCH]:
            try:
                read[path] = read_image(path)
            except ImageFileError as e:
                read[path] = e
        good = [p for p, im in read.items() if not isinstance(im, ImageFileError)]
        t0 = time.perf_counter()
        found = dict(zip(good, detector.detect_batch([read[p] for p in good], score_threshold=args.conf,
                                                     iou_threshold=args.iou, max_detections=args.max_det)))
        ms = (time.perf_counter() - t0) * 1000 / max(1, len(good))
        for path, im in read.items():
            yield (path, None, im, 0.0) if path not in found else (path, im, found[path], ms)


def _run_images(detector, plan: dict[Path, list[str]], guard, args) -> int:
    images = [p for p in plan if p != Path("classes.txt")]
    failed = labels = 0
    for path, image, dets, ms in _detect_in_batches(detector, images, args):
        if image is None:
            if len(images) == 1:
                raise dets
            print(f"skipped {dets}")
            failed += 1
            continue
        guard.record(_write_image(image, dets, guard.path(plan[path][0])))
        if args.save_labels:
            for written in _save_labels(path, image.shape, dets, guard.path(plan[path][1]),
                                        args.save_labels, detector.class_names):
                guard.record(written)
            labels += 1
        summary = ", ".join(f"{d.label} {d.score:.2f}" for d in dets[:8]) + (" ..." if len(dets) > 8 else "")
        print(f"{path.name}: {len(dets)} detections in {ms:.0f} ms ({detector.backend})"
              f"{': ' + summary if dets else ''}")
    print(f"wrote {len(images) - failed} annotated images"
          + (f" and {labels} {args.save_labels} label files" if args.save_labels else "")
          + f" to {guard.folder}" + (f" ({failed} unreadable images skipped)" if failed else ""))
    return 0 if failed < len(images) else 1


def _write_image(image, dets, target: Path) -> Path:
    import cv2

    from yolo_studio.core.atomic import atomic_write_bytes
    from yolo_studio.core.detector import draw_detections

    ok, data = cv2.imencode(target.suffix, draw_detections(image, dets))
    if not ok:
        raise ConfigError(f"{target}: OpenCV cannot encode the annotated image")
    atomic_write_bytes(target, data.tobytes())
    return target


def _save_labels(path: Path, shape, dets, label: Path, fmt: str, class_names: list[str]) -> list[Path]:
    from yolo_studio.core.annotations import ImageAnnotation

    ann = ImageAnnotation(path, shape[1], shape[0], [d.to_box() for d in dets])
    if fmt == "voc":
        from yolo_studio.core.formats.voc import write_voc
        write_voc(ann, label)
        return [label]
    from yolo_studio.core.formats.yolo_txt import sidecar_path, write_classes, write_yolo
    write_yolo(ann, label, class_names)
    write_classes(label.parent / "classes.txt", class_names)
    return [p for p in (label, sidecar_path(label), label.parent / "classes.txt") if p.exists()]


def _run_stream(detector, kind: str, source: str, guard, args) -> int:
    import cv2

    from yolo_studio.core.detector import draw_detections
    from yolo_studio.core.sources import CameraSource, SourceEnded, VideoSource

    src = CameraSource(int(source)) if kind == "camera" else VideoSource(source, realtime=False)
    target = guard.path(_video_name(kind, source))
    writer, frames, t0 = None, 0, time.perf_counter()
    with src:
        fps = getattr(src, "fps", 0.0) or 25.0
        try:
            while not args.max_frames or frames < args.max_frames:
                try:
                    frame = src.read()
                except SourceEnded:
                    break
                image = frame.image
                if writer is None:
                    writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"mp4v"), fps,
                                             (image.shape[1], image.shape[0]))
                    if not writer.isOpened():
                        raise ConfigError(f"{target}: OpenCV cannot write an mp4 video here")
                writer.write(draw_detections(image, _detect(detector, image, args)))
                frames += 1
        except KeyboardInterrupt:
            print("stopped")
        finally:
            if writer is not None:
                writer.release()
                guard.record(target)
    rate = frames / max(time.perf_counter() - t0, 1e-9)
    print(f"wrote {frames} frames to {target} ({rate:.1f} frames/s)")
    expected = int(getattr(src, "_frame_count", 0) or 0) if kind == "video" else 0
    if expected and frames < expected and not (args.max_frames and frames >= args.max_frames):
        # OpenCV ends a video at the first frame it cannot decode, as if it were the last.
        print(f"warning: {source}: stopped at frame {frames} of {expected}; the rest could not be "
              f"decoded (a damaged or cut video)")
    return 0
