"""Label file formats, one module each: voc, yolo_txt, coco, pylessons.

Readers return :class:`~yolo_studio.core.annotations.ImageAnnotation` objects
with pixel xyxy float boxes; writers are atomic. A reader given a ``report``
callback reports fixable problems (a box outside the image, an unknown class)
as :class:`~yolo_studio.core.errors.Problem` and goes on; a malformed file
raises :class:`~yolo_studio.core.errors.LabelFileError` naming it.
"""
from __future__ import annotations

FOLDER_FORMATS = ("voc", "yolo")          # one label file next to each image
FILE_FORMATS = ("coco", "pylessons")      # one file for the whole dataset
FORMAT_NAMES = FOLDER_FORMATS + FILE_FORMATS
