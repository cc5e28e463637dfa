"""blade: image PDEs solved with BLADE, a shallow learned adaptive-filter network.

Images are NumPy float32 arrays, (H, W) gray or (H, W, 3) color, nominal range [0, 1]. Library
errors raise blade.Error with the library's message. See blade/__init__.pyi for the API.

From a source checkout, the compiled extension is found in build/python/blade (built by
`make build`); an installed package (`cmake --install build --component python`) has it
alongside this file.
"""

import os as _os

_here = _os.path.dirname(_os.path.abspath(__file__))
# BLADE_MODULE_DIR names another build's module folder (the tests use it for their build).
_built = _os.environ.get("BLADE_MODULE_DIR") or _os.path.join(_os.path.dirname(_here), "build", "python", "blade")
if _os.path.isdir(_built):
    __path__.append(_built)  # noqa: F821 (package __path__)

from . import _blade  # noqa: E402
from ._blade import *  # noqa: E402,F401,F403

__all__ = [name for name in dir(_blade) if not name.startswith("_")]
