# Usage from the repository root: T=$(mktemp -d) bash docs/reliability-2-repro/conv.sh
set -u
: "${T:?set T to a scratch folder}"
export TF_CPP_MIN_LOG_LEVEL=2 QT_QPA_PLATFORM=offscreen
PY="nice -n 19 env PYTHONPATH=$PWD ${PYTHON:-python}"
Y="$PY -m yolo_studio.cli"
S=$T
# source: ultralytics dataset from ul_cases (u_move)
T=$T $PY $(dirname $0)/ul_cases.py open_writes >/dev/null 2>&1
SRC=$S/u_open
echo "== E1 convert onto folder with user files"
rm -rf $S/e1 && mkdir -p $S/e1 && echo mine > $S/e1/notes.txt
$Y convert --from ultralytics --to voc-devkit $SRC $S/e1 2>&1 | tail -1; cat $S/e1/notes.txt; ls $S/e1
echo "== E2 convert onto the source itself"
cp -r $SRC $S/e2src; (cd $S/e2src && find . -type f | sort | xargs sha1sum) > $T/e2.before
$Y convert --from ultralytics --to ultralytics $S/e2src $S/e2src 2>&1 | tail -1
$Y convert --from ultralytics --to ultralytics --overwrite $S/e2src $S/e2src 2>&1 | tail -1
$Y convert --from ultralytics --to voc-devkit --overwrite $S/e2src $S/e2src 2>&1 | tail -1
$Y convert --from ultralytics --to coco-dataset --overwrite $S/e2src $S/e2src 2>&1 | tail -1
(cd $S/e2src && find . -type f | sort | xargs sha1sum) | diff $T/e2.before - | head; ls $S/e2src
echo "== E3 convert into a subfolder of the source (images/train)"
rm -rf $S/e3 && cp -r $SRC $S/e3
$Y convert --from ultralytics --to ultralytics --overwrite $S/e3 $S/e3/images/train 2>&1 | tail -1; ls $S/e3/images/train | head
echo "== E4 convert to a file path"
echo mine > $S/e4.txt
$Y convert --from ultralytics --to coco-dataset $SRC $S/e4.txt 2>&1 | tail -1; cat $S/e4.txt
echo "== E5 --overwrite run 2 after user edited an output label"
rm -rf $S/e5; $Y convert --from ultralytics --to ultralytics $SRC $S/e5 2>&1 | tail -1
echo "0 0.1 0.1 0.05 0.05" > $S/e5/labels/train/traina.txt
$Y convert --from ultralytics --to ultralytics --overwrite $SRC $S/e5 2>&1 | tail -1; cat $S/e5/labels/train/traina.txt
echo "== E6 rerun --overwrite after user deleted an image from the source: stale removal"
rm -rf $S/e6src $S/e6; cp -r $SRC $S/e6src; $Y convert --from ultralytics --to voc-devkit $S/e6src $S/e6 2>&1 | tail -1
rm $S/e6src/images/train/traina.jpg; echo "<annotation>user edit</annotation>" > /dev/null
$Y convert --from ultralytics --to voc-devkit --overwrite $S/e6src $S/e6 2>&1 | tail -1; ls $S/e6/Annotations
echo "== E7 output label is a symlink to an outside file"
rm -rf $S/e7; $Y convert --from ultralytics --to ultralytics $SRC $S/e7 >/dev/null 2>&1; echo precious > $S/e7_ext.txt
rm $S/e7/labels/val/vala.txt; ln -s $S/e7_ext.txt $S/e7/labels/val/vala.txt
$Y convert --from ultralytics --to ultralytics --overwrite $SRC $S/e7 2>&1 | tail -1; cat $S/e7_ext.txt; ls -l $S/e7/labels/val/
echo "== E8 dangling symlink in the output where a label goes"
rm -rf $S/e8; mkdir -p $S/e8/labels/val; ln -s $S/e8_nothere.txt $S/e8/labels/val/vala.txt
$Y convert --from ultralytics --to ultralytics $SRC $S/e8 2>&1 | tail -1; ls -l $S/e8/labels/val/ 2>&1 | head -3; ls $S/e8_nothere.txt 2>&1
