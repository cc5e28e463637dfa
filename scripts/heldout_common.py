"""What the held-out comparison scripts share (denoise_compare.py, upscale_compare.py): the blade
module of this checkout, the image files named on the command line, and OpenCV when installed."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import blade  # noqa: E402,F401  (re-exported)

try:
    import cv2  # noqa: F401  (python3-opencv, scripts/install-deps.sh bench)
except ImportError:
    cv2 = None


def files_of(args):
    """Image files (.png, .jpg) in the folders and files given, folders sorted by name. -h or
    --help prints the calling script's usage (its docstring); a path that does not exist, or no
    image at all, ends the script with one error line."""
    name = Path(sys.argv[0]).name
    if any(a in ("-h", "--help") for a in args):
        print(sys.modules["__main__"].__doc__ or f"usage: {name} DIR_OR_FILES...")
        sys.exit(0)
    out = []
    for a in args:
        p = Path(a)
        if not p.exists():
            sys.exit(f"{name}: error: '{a}' does not exist")
        out += sorted(q for q in p.iterdir() if q.suffix.lower() in (".png", ".jpg")) if p.is_dir() else [p]
    if not out:
        sys.exit(f"{name}: error: give folders or image files (.png, .jpg)")
    return out


def one_thread():
    """Both libraries on one thread, so their times compare."""
    blade.set_threads(1)
    if cv2 is not None:
        cv2.setNumThreads(1)
