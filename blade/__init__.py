"""blade: image PDEs solved with BLADE, a shallow learned adaptive-filter network.

Images are NumPy float32 arrays, (H, W) gray or (H, W, 3) color, nominal range [0, 1]. Library
errors raise blade.Error with the library's message. See blade/__init__.pyi for the API.

From a source checkout, the compiled extension is found in build/python/blade (built by
`make build`); an installed package (`cmake --install build --component python`) has it
alongside this file.
"""

import functools as _functools
import os as _os

import numpy as _np

_here = _os.path.dirname(_os.path.abspath(__file__))
# BLADE_MODULE_DIR names another build's module folder (the tests use it for their build).
_built = _os.environ.get("BLADE_MODULE_DIR") or _os.path.join(_os.path.dirname(_here), "build", "python", "blade")
if _os.path.isdir(_built):
    __path__.append(_built)  # noqa: F821 (package __path__)

from . import _blade  # noqa: E402
from ._blade import *  # noqa: E402,F401,F403

__version__ = _blade.__version__


def _describe(value):
    """One argument as a type error shows it: an array by shape and dtype, never its values."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"{type(value).__name__} {tuple(value.shape)} {value.dtype}"
    if isinstance(value, (list, tuple, dict)):
        return f"{type(value).__name__} of length {len(value)}"
    if isinstance(value, (bool, int, float, str)) and len(repr(value)) <= 40:
        return repr(value)
    return type(value).__name__


def _as_path_strings(value):
    """Paths may be str or os.PathLike (pathlib.Path), alone or in a list of image files, as in
    the rest of the ecosystem; the extension takes str."""
    if isinstance(value, _os.PathLike):
        return _os.fspath(value)
    if isinstance(value, (list, tuple)) and any(isinstance(v, _os.PathLike) for v in value) \
            and all(isinstance(v, (str, _os.PathLike)) for v in value):
        return [_os.fspath(v) for v in value]
    return value


def _as_array_if_image(value):
    """A nested list or tuple of numbers is an ArrayLike image (the stub's type): given as the
    NumPy array it spells, with NumPy's dtype (so nested Python ints are refused as signed, as
    an int64 array is). Anything else (lists of paths, bins, ragged layer lists) is left alone."""
    if not isinstance(value, (list, tuple)) or not value or not isinstance(value[0], (list, tuple)):
        return value
    try:
        array = _np.asarray(value)
    except (ValueError, TypeError):
        return value
    return array if array.dtype.kind in "biuf" and array.ndim >= 2 else value


# Where each function that takes image files has its `images` argument (positional index), so
# that a folder (str or os.PathLike) stands for the images in it, as `--images DIR` does.
_IMAGES_AT = {"train": 1, "train_upscale": 0, "train_refiner": 1, "train_denoise": 0, "evaluate": 1,
              "evaluate_model": 1, "evaluate_resample": 1, "evaluate_app": 2, "selection_features": 1,
              "accumulate_normal_equations": 1, "fit_least_squares": 1, "rollout_loss_gradient": 1,
              "rollout_loss": 1}


def _expand_image_folder(name, args, kwargs):
    """A folder (or one file) given as `images` becomes its image files (list_images)."""
    at = _IMAGES_AT.get(name)
    if at is None:
        return args, kwargs
    if "images" in kwargs and isinstance(kwargs["images"], (str, _os.PathLike)):
        kwargs = dict(kwargs, images=_blade.list_images(_os.fspath(kwargs["images"])))
    elif len(args) > at and isinstance(args[at], (str, _os.PathLike)):
        args = list(args)
        args[at] = _blade.list_images(_os.fspath(args[at]))
    return args, kwargs


def _readable_type_errors(fn):
    """pybind11's argument-mismatch TypeError ends with the arguments' repr, which for an image is
    a page of numbers; this keeps the expected signature and shows what was given by type,
    shape and dtype. It also passes os.PathLike arguments (pathlib.Path) on as str."""

    @_functools.wraps(fn)
    def call(*args, **kwargs):
        args, kwargs = _expand_image_folder(getattr(fn, "__name__", ""), args, kwargs)
        args = [_as_array_if_image(_as_path_strings(a)) for a in args]
        kwargs = {k: _as_array_if_image(_as_path_strings(v)) for k, v in kwargs.items()}
        try:
            return fn(*args, **kwargs)
        except TypeError as error:
            message = str(error)
            if "incompatible function arguments" not in message and \
                    "incompatible constructor arguments" not in message:
                raise
            expected = message.split("Invoked with:")[0].rstrip()
            got = [_describe(a) for a in args] + [f"{k}={_describe(v)}" for k, v in kwargs.items()]
            raise TypeError(f"{expected}\nGot: ({', '.join(got)})") from None

    return call


def _wrap_extension():
    names = globals()
    for name in dir(_blade):
        if name.startswith("__"):
            continue
        value = getattr(_blade, name)
        if type(value).__name__ == "builtin_function_or_method":
            names[name] = _readable_type_errors(value)
        elif isinstance(value, type) and value.__module__.startswith("blade"):
            for attr, member in list(vars(value).items()):
                if isinstance(member, staticmethod):
                    setattr(value, attr, staticmethod(_readable_type_errors(member.__func__)))
                elif type(member).__name__ == "instancemethod":
                    setattr(value, attr, _readable_type_errors(member.__func__))


_wrap_extension()


def write_image(path, image, depth="", quality=95, like=""):
    """Writes an image atomically; path first, as imageio, OpenCV and scikit-image do.

    The format follows the extension (.png .jpg .tif .npy); uint8/uint16 arrays are scaled by
    their type's maximum first (scikit-image's img_as_float rule), floats are written as they are.
    depth: "8", "16" or "float" (default: a uint8/uint16 array's own depth, else the format's);
    quality: JPEG's, 1-100 (other formats are lossless); clipping to [0, 1] by an integer format
    gives one warning with the count where it changes the picture (not an edge's overshoot).
    like: the depth of the file the image came from ('8', '16' or 'float', as
    `read_image(path, with_depth=True)` returns it), kept where the format holds it, as the
    `blade` tool keeps its input's depth (16-bit PNG in, 16-bit PNG out).
    """
    if isinstance(image, (str, _os.PathLike)) and not isinstance(path, (str, _os.PathLike)):
        raise TypeError("write_image(path, image): the path comes first, as in imageio, OpenCV "
                        "and scikit-image")
    return _write_image(_os.fspath(path), image, str(depth), int(quality), str(like))


_write_image = _readable_type_errors(_blade.write_image)


__all__ = [name for name in dir(_blade) if not name.startswith("_")]
