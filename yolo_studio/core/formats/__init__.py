"""Label file formats, one module each: voc, yolo_txt, coco, pylessons, tool_json.

Readers return :class:`~yolo_studio.core.annotations.ImageAnnotation` objects
with pixel xyxy float boxes; writers are atomic. A reader given a ``report``
callback reports fixable problems (a box outside the image, an unknown class)
as :class:`~yolo_studio.core.errors.Problem` and goes on; a malformed file
raises :class:`~yolo_studio.core.errors.LabelFileError` naming it.

Which formats exist, and what reads and writes each, is one table:
:mod:`~yolo_studio.core.formats.registry`.
"""
