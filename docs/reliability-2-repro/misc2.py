import os, sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import *
from yolo_studio.core.project import Project
from yolo_studio.core.annotations import Box, ImageAnnotation
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "core"))
from layout_fixtures import DEVKIT_XML, voc_devkit

def ul(name, yaml_text):
    d = fresh(name); (d / "data.yaml").write_text(yaml_text)
    img(d / "images/train/a.jpg"); img(d / "images/val/b.jpg")
    return d

def case_names_null():
    d = ul("y_null", "train: images/train\nval: images/val\nnames: [cat, null, [a, b], 3]\n")
    try: p = Project.open(d); return f"classes {p.classes}"
    except Exception as e: return f"{type(e).__name__}: {str(e)[:150]}"

def case_yaml_bomb():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 9) + "]")
    d = ul("y_bomb", "\n".join(lines) + "\ntrain: images/train\nval: images/val\nnames: *a8\n")
    import time; t = time.time()
    try: p = Project.open(d); return f"classes {len(p.classes)} in {time.time()-t:.1f}s"
    except Exception as e: return f"{type(e).__name__}: {str(e)[:150]} in {time.time()-t:.1f}s"

def case_yaml_python_tag():
    d = ul("y_tag", "train: images/train\nval: images/val\nnames: !!python/object/apply:os.system ['touch /tmp/reliability-2-pwned']\n")
    try: p = Project.open(d); r = f"classes {p.classes}"
    except Exception as e: r = f"{type(e).__name__}: {str(e)[:120]}"
    return r + f"; pwned {os.path.exists('/tmp/reliability-2-pwned')}"

def case_voc_no_bndbox():
    dev = voc_devkit(fresh("v_nobb"))
    x = dev / "VOC2007/Annotations/000001.xml"
    x.write_text(DEVKIT_XML.format(stem="000001").replace("<object>\n\t\t<name>dog", "<object>\n\t\t<name>horse</name><point><x>3</x><y>4</y></point>\n\t</object>\n\t<object>\n\t\t<name>dog"))
    p = Project.open(dev.parent)
    try:
        ann = p.load_annotation(dev / "VOC2007/JPEGImages/000001.jpg")
        b = ann.boxes[0]; ann.boxes[0] = b.moved(x1=b.x1 + 1, x2=b.x2 + 1); p.save_annotation(ann)
        return f"loaded {ann.labels()} hidden {len(ann.hidden)}; horse kept {'horse' in x.read_text()}"
    except Exception as e: return f"{type(e).__name__}: {str(e)[:150]}"

def case_voc_latin1():
    dev = voc_devkit(fresh("v_latin"))
    x = dev / "VOC2007/Annotations/000001.xml"
    x.write_bytes(("<?xml version='1.0' encoding='ISO-8859-1'?>\n" + DEVKIT_XML.format(stem="000001").replace("Jinky the Fruit Bat", "J\u00e9r\u00f4me")).encode("latin-1"))
    b0 = x.read_bytes()
    p = Project.open(dev.parent)
    ann = p.load_annotation(dev / "VOC2007/JPEGImages/000001.jpg")
    b = ann.boxes[0]; ann.boxes[0] = b.moved(x1=b.x1 + 1, x2=b.x2 + 1); p.save_annotation(ann)
    b1 = x.read_bytes()
    return f"owner bytes kept {b'J' + bytes([0xe9]) + b'r' in b1}; lines changed {sum(1 for a, c in zip(b0.splitlines(), b1.splitlines()) if a != c)}"

def case_devkit_open_writes():
    d = fresh("v_open"); voc_devkit(d); s0 = snap(d); n0 = set(d.rglob("*"))
    p = Project.open(d); p.load_all(); p.split()
    return f"changed {diff(s0, snap(d))}; new {set(d.rglob('*')) - n0}"

def case_labelme():
    import subprocess
    d = fresh("lm"); src = d / "labelme"; src.mkdir()
    img(d / "outside.jpg"); img(src / "a.jpg")
    shapes = [{"label": "cat", "points": [[1, 1], [20, 20]], "shape_type": "rectangle", "flags": {}},
              {"label": "cat", "points": [[1, 1], [20, 20], [5, 30]], "shape_type": "polygon"},
              {"label": "dot", "points": [[3, 3]], "shape_type": "point"},
              {"label": "c", "points": [[3, 3], [5, 5]], "shape_type": "circle"}]
    (src / "a.json").write_text(json.dumps({"version": "5.0.1", "shapes": shapes, "imagePath": "a.jpg", "imageData": None}))
    (src / "b.json").write_text(json.dumps({"version": "5.0.1", "shapes": shapes[:1], "imagePath": "../outside.jpg"}))
    s0 = snap(src)
    cli = [sys.executable, "-m", "yolo_studio.cli", "convert", "--from", "labelme"]
    r = subprocess.run(cli + ["--to", "voc", str(src), str(d / "out")], capture_output=True, text=True)
    r2 = subprocess.run(cli + ["--to", "yolo", str(src), str(src)], capture_output=True, text=True)
    return (f"rc {r.returncode}; problems {[l[:90] for l in r.stdout.splitlines() if 'problem:' in l]}; "
            f"out {sorted(p.name for p in (d / 'out').iterdir())}; onto itself rc {r2.returncode}; "
            f"labelme folder changed {diff(s0, snap(src))}")

for name, fn in list(globals().items()):
    if name.startswith("case_") and (len(sys.argv) < 2 or name[5:] in sys.argv[1:]):
        run(name, fn)
