"""``yolo-studio detect --weights W SOURCE``: run a model on images, a folder, a video or a camera."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from yolo_studio.core.errors import ConfigError

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".webm", ".mpg", ".mpeg", ".wmv")


def add_parser(sub, name: str) -> argparse.ArgumentParser:
    """Register the ``detect`` subcommand."""
    p = sub.add_parser(name, help="detect objects in an image, folder, video file or camera",
                       description="Run a trained model (YOLO Studio checkpoint, darknet "
                                   ".weights + .cfg, or an exported SavedModel) and write "
                                   "annotated images/video to --out.")
    p.add_argument("source", help="image file, folder of images, video file, or camera index (0, 1, ...)")
    p.add_argument("--weights", required=True,
                   help="checkpoint (<name>.weights.h5 / .json), darknet .weights, or SavedModel folder")
    p.add_argument("--cfg", help="darknet .cfg for --weights (default: <weights>.cfg beside it)")
    p.add_argument("--classes", help="class names file (one per line) or just the class count")
    p.add_argument("--size", type=int, help="network input size, a multiple of 32 (default: the model's)")
    p.add_argument("--conf", type=float, default=0.25, help="score threshold (default 0.25)")
    p.add_argument("--iou", type=float, default=0.45, help="NMS IoU threshold (default 0.45)")
    p.add_argument("--max-det", type=int, default=100, help="most detections per image (default 100)")
    p.add_argument("--out", default="detections", help="output folder (default ./detections)")
    p.add_argument("--save-labels", choices=("voc", "yolo"),
                   help="also write the detections as label files in --out (pre-labels for the labeller)")
    p.add_argument("--precision", choices=("float32", "bfloat16", "auto"), default="float32",
                   help="bfloat16 runs 1.4-2.3x faster on CPUs with AVX-512-BF16, scores within "
                        "a few hundredths; auto uses it where the CPU has it (default float32)")
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
    """Check the source first (fast), then load the model once and walk the source."""
    from yolo_studio.core.detector import Detector

    _check_args(args)
    kind = _source_kind(args.source)
    out = Path(args.out)
    images = None
    if kind in ("image", "folder"):
        folder = Path(args.source) if kind == "folder" else Path(args.source).parent
        if out.resolve() == folder.resolve():
            # Annotated copies and label files would replace the originals there.
            raise ConfigError(f"--out {out} is the image folder itself; choose another folder "
                              f"so originals and their labels are not overwritten")
        images = _image_list(Path(args.source), kind)
    detector = Detector.load(args.weights, classes=args.classes, cfg=args.cfg, input_size=args.size,
                             precision=args.precision)
    if detector.message:
        print(detector.message)
    out.mkdir(parents=True, exist_ok=True)
    if images is not None:
        return _run_images(detector, images, out, args)
    return _run_stream(detector, kind, args.source, out, args)


def _source_kind(source: str) -> str:
    if source.isdigit():
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


def _run_images(detector, images: list[Path], out: Path, args) -> int:
    from yolo_studio.core.errors import ImageFileError
    from yolo_studio.core.images import read_image

    failed = 0
    for path in images:
        try:
            image = read_image(path)
        except ImageFileError as e:
            if len(images) == 1:
                raise
            print(f"skipped {e}")
            failed += 1
            continue
        dets = _detect(detector, image, args)
        _write_image(path, image, dets, out)
        if args.save_labels:
            _save_labels(path, image.shape, dets, out, args.save_labels, detector.class_names)
        summary = ", ".join(f"{d.label} {d.score:.2f}" for d in dets[:8]) + (" ..." if len(dets) > 8 else "")
        ms = sum(detector.timings.values()) * 1000
        print(f"{path.name}: {len(dets)} detections in {ms:.0f} ms{': ' + summary if dets else ''}")
    print(f"wrote {len(images) - failed} annotated images to {out}"
          + (f" ({failed} unreadable images skipped)" if failed else ""))
    return 0 if failed < len(images) else 1


def _write_image(path: Path, image, dets, out: Path) -> None:
    import cv2

    from yolo_studio.core.atomic import atomic_write_bytes
    from yolo_studio.core.detector import draw_detections

    keep_suffix = path.suffix.lower() in (".jpg", ".jpeg", ".png")
    target = out / (path.stem + (path.suffix if keep_suffix else ".jpg"))
    ok, data = cv2.imencode(target.suffix, draw_detections(image, dets))
    if not ok:
        raise ConfigError(f"{target}: OpenCV cannot encode the annotated image")
    atomic_write_bytes(target, data.tobytes())


def _save_labels(path: Path, shape, dets, out: Path, fmt: str, class_names: list[str]) -> None:
    from yolo_studio.core.annotations import ImageAnnotation

    ann = ImageAnnotation(path, shape[1], shape[0], [d.to_box() for d in dets])
    if fmt == "voc":
        from yolo_studio.core.formats.voc import write_voc
        write_voc(ann, out / (path.stem + ".xml"))
    else:
        from yolo_studio.core.formats.yolo_txt import write_classes, write_yolo
        write_yolo(ann, out / (path.stem + ".txt"), class_names)
        write_classes(out / "classes.txt", class_names)


def _run_stream(detector, kind: str, source: str, out: Path, args) -> int:
    import cv2

    from yolo_studio.core.detector import draw_detections
    from yolo_studio.core.sources import CameraSource, SourceEnded, VideoSource

    src = CameraSource(int(source)) if kind == "camera" else VideoSource(source, realtime=False)
    name = f"camera{source}" if kind == "camera" else Path(source).stem
    target = out / f"{name}_detections.mp4"
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
    rate = frames / max(time.perf_counter() - t0, 1e-9)
    print(f"wrote {frames} frames to {target} ({rate:.1f} frames/s)")
    return 0
