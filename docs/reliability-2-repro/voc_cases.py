import os, sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import *
from yolo_studio.core.project import Project
from yolo_studio.core.annotations import Box

V07 = """<annotation>
\t<folder>VOC2007</folder>
\t<filename>{id}.jpg</filename>
\t<source>
\t\t<database>The VOC2007 Database</database>
\t\t<annotation>PASCAL VOC2007</annotation>
\t\t<image>flickr</image>
\t\t<flickrid>341012865</flickrid>
\t</source>
\t<owner>
\t\t<flickrid>Fried Camels</flickrid>
\t\t<name>Jinky the Fruit Bat</name>
\t</owner>
\t<size>
\t\t<width>200</width>
\t\t<height>100</height>
\t\t<depth>3</depth>
\t</size>
\t<segmented>0</segmented>
\t<object>
\t\t<name>dog</name>
\t\t<pose>Left</pose>
\t\t<truncated>1</truncated>
\t\t<difficult>0</difficult>
\t\t<bndbox>
\t\t\t<xmin>48</xmin>
\t\t\t<ymin>24</ymin>
\t\t\t<xmax>95</xmax>
\t\t\t<ymax>71</ymax>
\t\t</bndbox>
\t</object>
\t<object>
\t\t<name>person</name>
\t\t<pose>Unspecified</pose>
\t\t<truncated>0</truncated>
\t\t<difficult>1</difficult>
\t\t<bndbox>
\t\t\t<xmin>8</xmin>
\t\t\t<ymin>12</ymin>
\t\t\t<xmax>52</xmax>
\t\t\t<ymax>90</ymax>
\t\t</bndbox>
\t\t<part>
\t\t\t<name>head</name>
\t\t\t<bndbox>
\t\t\t\t<xmin>10</xmin>
\t\t\t\t<ymin>12</ymin>
\t\t\t\t<xmax>20</xmax>
\t\t\t\t<ymax>22</ymax>
\t\t\t</bndbox>
\t\t</part>
\t\t<actions>
\t\t\t<jumping>0</jumping>
\t\t</actions>
\t\t<point>
\t\t\t<x>30</x>
\t\t\t<y>40</y>
\t\t</point>
\t</object>
</annotation>
"""

def make(name, xml=V07, ids=("000001", "000002")):
    d = fresh(name); y = d / "VOCdevkit/VOC2007"
    (y / "Annotations").mkdir(parents=True); (y / "ImageSets/Main").mkdir(parents=True)
    for i in ids:
        img(y / f"JPEGImages/{i}.jpg")
        (y / f"Annotations/{i}.xml").write_bytes(xml.format(id=i).encode() if isinstance(xml, str) else xml)
    (y / "ImageSets/Main/train.txt").write_text(ids[0] + "\n"); (y / "ImageSets/Main/val.txt").write_text("\n".join(ids[1:]) + "\n")
    return d, y

def move(p, image, idx=0, dx=1):
    ann = p.load_annotation(image); b = ann.boxes[idx]
    ann.boxes[idx] = b.moved(x1=b.x1 + dx, x2=b.x2 + dx); p.save_annotation(ann)

def udiff(a, b):
    import difflib
    return [l for l in difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0)][2:]

def case_move07():
    d, y = make("v_move"); f = y / "Annotations/000001.xml"; t0 = f.read_text(); s0 = snap(d)
    p = Project.open(d); move(p, y / "JPEGImages/000001.jpg")
    return f"changed {diff(s0, snap(d))}; diff {udiff(t0, f.read_text())}"

def case_nochange_save():
    d, y = make("v_same"); f = y / "Annotations/000001.xml"; b0 = f.read_bytes()
    p = Project.open(d); ann = p.load_annotation(y / "JPEGImages/000001.jpg"); p.save_annotation(ann)
    return f"byte-identical: {f.read_bytes() == b0}; diff {udiff(b0.decode(), f.read_text())}"

def case_comment_crlf_decl():
    x = "<?xml version='1.0' encoding='UTF-8'?>\r\n<!-- checked by Anna 2021 -->\r\n" + V07.replace("\n", "\r\n").replace("<segmented>0</segmented>", "<segmented>0</segmented><!-- hard one -->")
    d, y = make("v_cmt", x); f = y / "Annotations/000001.xml"; b0 = f.read_bytes()
    p = Project.open(d); move(p, y / "JPEGImages/000001.jpg")
    b1 = f.read_bytes()
    return f"comments {b0.count(b'<!--')}->{b1.count(b'<!--')}; CRLF {b0.count(bytes([13,10]))}->{b1.count(bytes([13,10]))}; head {b1[:60]!r}"

def case_bom():
    d, y = make("v_bom", b"\xef\xbb\xbf" + V07.format(id="x").encode()); f = y / "Annotations/000001.xml"
    p = Project.open(d); move(p, y / "JPEGImages/000001.jpg")
    return f"BOM kept {f.read_bytes()[:3] == bytes([0xef,0xbb,0xbf])}"

def case_no_trailing_nl():
    d, y = make("v_nonl", V07.rstrip("\n")); f = y / "Annotations/000001.xml"
    p = Project.open(d); move(p, y / "JPEGImages/000001.jpg")
    return f"ends {f.read_bytes()[-15:]!r}"

def case_attrs():
    x = V07.replace("<object>\n\t\t<name>dog", '<object id="7" track="3">\n\t\t<name>dog').replace("<pose>Left</pose>", "<pose>Left</pose>\n\t\t<attributes><attribute><name>color</name><value>brown</value></attribute></attributes>")
    d, y = make("v_attr", x); f = y / "Annotations/000001.xml"
    p = Project.open(d); move(p, y / "JPEGImages/000001.jpg", 0)
    t = f.read_text()
    return f"attr kept {('id=' + chr(34) + '7') in t and 'track' in t}; attributes kept {'brown' in t}"

def case_delete_keeps_parts():
    d, y = make("v_del"); f = y / "Annotations/000001.xml"
    p = Project.open(d); ann = p.load_annotation(y / "JPEGImages/000001.jpg")
    ann.boxes = [b for b in ann.boxes if b.label != "dog"]; p.save_annotation(ann); t = f.read_text()
    return f"person part kept {'<part>' in t and 'jumping' in t}; dog gone {'dog' not in t}"

def case_broken():
    d, y = make("v_broken"); f = y / "Annotations/000002.xml"; f.write_text(V07.format(id="2")[:300]); b0 = f.read_bytes()
    p = Project.open(d)
    try: p.load_annotation(y / "JPEGImages/000002.jpg"); r = "loaded"
    except Exception as e: r = f"{type(e).__name__}: {str(e)[:100]}"
    ann_try = None
    try:
        from yolo_studio.core.annotations import ImageAnnotation
        p.save_annotation(ImageAnnotation(y / "JPEGImages/000002.jpg", 200, 100, [Box(1, 1, 9, 9, "dog")])); r2 = "saved"
    except Exception as e: r2 = f"{type(e).__name__}: {str(e)[:80]}"
    _, probs = p.load_all()
    return f"{r}; save: {r2}; untouched {f.read_bytes() == b0}; classes {p.classes}"

def case_float_coords():
    d, y = make("v_float", V07.replace("<xmin>48</xmin>", "<xmin>48.5</xmin>")); f = y / "Annotations/000001.xml"; t0 = f.read_text()
    p = Project.open(d); move(p, y / "JPEGImages/000001.jpg", 0, dx=0.25)
    return udiff(t0, f.read_text())

def case_jpg_png():
    d, y = make("v_stem"); img(y / "JPEGImages/000001.png")
    p = Project.open(d); _, probs = p.load_all()
    return f"images {[x.name for x in p.image_paths()]}; problems {[str(x)[:100] for x in probs]}"

def case_unescaped_name():
    d, y = make("v_amp", V07.replace("<name>dog</name>", "<name>cat &amp; dog</name>")); f = y / "Annotations/000001.xml"
    p = Project.open(d); move(p, y / "JPEGImages/000001.jpg", 1); t = f.read_text()
    return f"classes {p.classes}; amp kept {'cat &amp; dog' in t}"

def case_new_xml():
    d, y = make("v_new"); img(y / "JPEGImages/000003.jpg"); s0 = snap(d)
    p = Project.open(d)
    from yolo_studio.core.annotations import ImageAnnotation
    p.save_annotation(ImageAnnotation(y / "JPEGImages/000003.jpg", 200, 100, [Box(1, 1, 9, 9, "horse")]))
    return f"changed {diff(s0, snap(d))}; classes {p.classes}"

for name, fn in list(globals().items()):
    if name.startswith("case_") and (len(sys.argv) < 2 or name[5:] in sys.argv[1:]):
        run(name, fn)
