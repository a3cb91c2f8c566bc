"""Datasets opened in place, in the layout the tool that made them wrote.

A :class:`~yolo_studio.core.datasets.base.Layout` says where a dataset's
images are, where each image's labels live, which split each image is in,
and which classes there are, as that tool defines them:

* ``ultralytics``: ``data.yaml`` + ``images/<split>/`` + ``labels/<split>/`` (YOLOv5-v8);
* ``voc-devkit``: ``VOCdevkit/VOC<year>/{JPEGImages,Annotations,ImageSets/Main}``;
* ``coco``: ``annotations/instances_<split>.json`` + ``<split>/`` image folders.

A project of labels beside its images (the app's own layout) has no Layout
object: :class:`~yolo_studio.core.project.Project` handles it itself.
Opening reads only; a save writes only the edited image's own label file
(or, for COCO, the one JSON that holds that image).
"""
