import sys

from yolo_studio.cli import main

sys.exit(main())
