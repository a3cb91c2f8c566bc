# Usage from the repository root: T=$(mktemp -d) bash docs/reliability-2-repro/misc.sh
: "${T:?set T to a scratch folder}"
export TF_CPP_MIN_LOG_LEVEL=2 QT_QPA_PLATFORM=offscreen
PY="nice -n 19 env PYTHONPATH=$PWD ${PYTHON:-python}"
Y="$PY -m yolo_studio.cli"
S=$T
rm -rf $S/m && mkdir -p $S/m && $Y demo $S/m/proj --images 3 >/dev/null 2>&1
echo "my list" > $S/m/list.txt
echo "== suggest --out onto a user file"
$Y suggest $S/m/proj --weights /nonexistent.weights.h5 --out $S/m/list.txt 2>&1 | tail -1; cat $S/m/list.txt
echo "== suggest --out into project root"
$Y suggest $S/m/proj --weights /nonexistent.weights.h5 --out $S/m/proj/list.txt 2>&1 | tail -1
echo "== suggest --out is a folder"
mkdir -p $S/m/dir; $Y suggest $S/m/proj --weights /nonexistent.weights.h5 --out $S/m/dir 2>&1 | tail -1
echo "== suggest --out ."
(cd $S/m && $Y suggest $S/m/proj --weights /nonexistent.weights.h5 --out . 2>&1 | tail -1)
T=$T $PY - <<PYEOF
import os, sys; sys.path.insert(0, '$(dirname $(realpath $0))')
from common import *
from yolo_studio.core.active import cache
from yolo_studio.core.runtime.cache import RuntimeCache
d = fresh("m2")
# active cache: a user file where the score file goes
runs = d / "runs"; (runs / "active_cache").mkdir(parents=True)
p = cache.cache_path(runs, "k1"); p.write_bytes(b"user data")
t, note = cache.load(p, "k1"); print("[active foreign file] note:", note)
# active_cache is a file
runs2 = d / "runs2"; runs2.mkdir(); (runs2 / "active_cache").write_text("user")
p2 = cache.cache_path(runs2, "k1"); t, note = cache.load(p2, "k1"); print("[active_cache is a file] load note:", note)
try:
    tb = cache.ScoreTable(); tb.put("a.jpg", 0.1, 0.2, np.zeros(3), (1, 2)); cache.save(p2, "k1", tb); print("saved")
except Exception as e: print("[active_cache is a file] save:", type(e).__name__, e)
# runtime cache: a user file with the key's name
f = d / "w.runtime"; f.mkdir(); (f / "KEY.onnx").write_text("user onnx")
rc = RuntimeCache(f, "KEY")
def make(path): Path(path).write_text("converted")
path, cached = rc.store([".onnx"], make); print("[runtime foreign KEY.onnx]", path, cached, rc.message[:120], (f / "KEY.onnx").read_text())
g = d / "x.runtime"; g.write_text("user file")
rc = RuntimeCache(g, "KEY"); path, cached = rc.store([".onnx"], make); print("[runtime folder is a file]", cached, rc.message[:120], g.read_text())
rc.discard(path)
# runtime: choice file foreign
(f / "auto-KEY.json").write_text("{\"user\": 1}")
rc = RuntimeCache(f, "KEY"); print("[runtime foreign choice] read", rc.read_choice()); rc.write_choice({"a": 1}); print((f / "auto-KEY.json").read_text(), rc.message[:100])
PYEOF
