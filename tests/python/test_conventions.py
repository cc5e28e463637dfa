"""NumPy conventions as scikit-image has them (issue 23): the img_as_float dtype rule for every
function that takes an image, messages that give shape and dtype, path-first write_image,
C-contiguous read_image, __version__, FileNotFoundError."""

import os
import re
import sys
import subprocess
from pathlib import Path

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio
from skimage.util import img_as_float

ROOT = Path(os.environ.get("BLADE_SOURCE_DIR", Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(ROOT))
blade = pytest.importorskip("blade")
BINARY = os.environ.get("BLADE_BINARY")
MODELS = ROOT / "models"
RNG = np.random.default_rng(23)


def as_float32(a):
    return img_as_float(a).astype(np.float32)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_unsigned_arrays_are_scaled_by_their_types_maximum(dtype):
    top = np.iinfo(dtype).max
    u = RNG.integers(0, top, (24, 32), endpoint=True).astype(dtype)
    model = blade.Model.load(str(MODELS / "tv.blade"))
    np.testing.assert_array_equal(model.run(u), model.run(as_float32(u)))
    np.testing.assert_array_equal(blade.gaussian_blur(u, 1.0),
                                  blade.gaussian_blur(as_float32(u), 1.0))
    # What a uint8 caller meant: the values of img_as_float, so the PSNR is scikit-image's.
    v = np.clip(u.astype(np.int64) + RNG.integers(-3, 4, u.shape), 0, top).astype(dtype)
    expected = peak_signal_noise_ratio(img_as_float(u), img_as_float(v), data_range=1.0)
    assert abs(blade.psnr(u, v) - expected) < 1e-4
    assert blade.psnr(u, v) > 30  # not the 0 dB of 0..255 values against [0, 1]
    out = blade.solve(u, "pm", time=0.5)
    assert out.dtype == np.float32 and out.max() <= 1.0 + 1e-6


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_a_data_range_given_with_integer_arrays_is_in_their_units_as_scikit_image_takes_it(dtype):
    from skimage.metrics import structural_similarity
    top = np.iinfo(dtype).max
    u = RNG.integers(0, top, (40, 48), endpoint=True).astype(dtype)
    v = np.clip(u.astype(np.int64) + RNG.integers(-top // 20, top // 20, u.shape), 0, top).astype(dtype)
    expected = peak_signal_noise_ratio(u, v, data_range=top)
    assert abs(blade.psnr(u, v, peak=top) - expected) < 1e-4
    assert abs(blade.psnr(u, v, peak=top) - blade.psnr(u, v)) < 1e-9
    ssim = structural_similarity(u.astype(np.float64), v.astype(np.float64), data_range=top,
                                 gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
    assert abs(blade.ssim(u, v, data_range=top) - ssim) < 1e-5
    # Half the dtype's range is half the full range, in both.
    assert abs(blade.psnr(u, v, peak=top / 2) - peak_signal_noise_ratio(u, v, data_range=top / 2)) < 1e-4
    # An integer and a float array: the range's units are ambiguous, refused; left out, it is 1.
    with pytest.raises(blade.Error, match="ambiguous"):
        blade.psnr(u, as_float32(v), peak=top)
    assert abs(blade.psnr(u, as_float32(v)) - expected) < 1e-4


def test_a_range_that_does_not_fit_the_images_is_warned_about():
    u = RNG.integers(0, 256, (32, 32)).astype(np.uint8)
    v = np.clip(u.astype(np.int64) + RNG.integers(-5, 6, u.shape), 0, 255).astype(np.uint8)
    # uint8 arrays given the old default 1: a range of 1 in their units, far below their values.
    with pytest.warns(UserWarning, match="beyond the data range"):
        blade.psnr(u, v, peak=1.0)
    # Float images in 0-255 left at the full range 1 (scikit-image refuses this).
    with pytest.warns(UserWarning, match="beyond the data range"):
        blade.psnr(u.astype(np.float32), v.astype(np.float32))
    # Slightly negative values (an unclipped result) with 255 are still "in [0, 1]".
    a = RNG.uniform(0, 1, (32, 32)).astype(np.float32)
    with pytest.warns(UserWarning, match="dB too high"):
        blade.psnr(a - 1e-3, a, peak=255)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        blade.psnr(u, v)  # the fitting calls stay silent
        blade.psnr(u, v, peak=255)
        blade.psnr(a, a + 0.01)


def test_a_peak_of_255_on_float_images_in_0_1_is_warned_about():
    a = RNG.uniform(0, 1, (32, 32)).astype(np.float32)
    b = np.clip(a + RNG.normal(0, 0.05, a.shape), 0, 1).astype(np.float32)
    with pytest.warns(UserWarning, match="48.1 dB too high"):
        blade.psnr(a, b, peak=255)
    with pytest.warns(UserWarning, match="lie in \\[0, 1\\]"):
        blade.ssim(a, b, data_range=255)


def test_color_uint8_is_scaled_too():
    u = RNG.integers(0, 255, (16, 20, 3), endpoint=True).astype(np.uint8)
    np.testing.assert_array_equal(blade.to_luma(u), blade.to_luma(as_float32(u)))


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.bool_, np.uint32, np.uint64])
def test_signed_boolean_and_wide_unsigned_arrays_are_refused_with_their_dtype(dtype):
    # uint32 / uint64 divided by their maximum (img_as_float) would turn 8- or 16-bit values black.
    a = np.zeros((8, 9), dtype=dtype)
    with pytest.raises(blade.Error, match=np.dtype(dtype).name):
        blade.psnr(a, a)
    with pytest.raises(blade.Error, match="dtype"):
        blade.Model.load(str(MODELS / "tv.blade")).run(a)


def test_shape_errors_give_shape_and_dtype_and_never_the_values():
    a = np.full((8, 9, 2), 0.123456, dtype=np.uint8)
    with pytest.raises(blade.Error) as info:
        blade.Model.load(str(MODELS / "tv.blade")).run(a)
    message = str(info.value)
    assert "expected (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got (8, 9, 2) uint8" in message, message
    assert "[" not in message and "array" not in message, message
    with pytest.raises(blade.Error, match=re.escape("got (5,) float64")):
        blade.to_luma(np.zeros(5))


def test_one_channel_and_rgba_arrays_read_as_the_image_files_do(tmp_path):
    """(H, W, 1) is gray and (H, W, 4) loses its alpha with one warning, as the same arrays
    saved to .npy and given to the command line; the warning points at this file."""
    rng = np.random.default_rng(3)
    rgb = rng.random((20, 24, 3), dtype=np.float32)
    rgba = np.concatenate([rgb, rng.random((20, 24, 1), dtype=np.float32)], axis=2)
    gray = rgb[:, :, :1]
    np.testing.assert_array_equal(blade.gaussian_blur(gray, 1.0), blade.gaussian_blur(gray[:, :, 0], 1.0))
    with pytest.warns(UserWarning, match=r"alpha channel \(20, 24, 4\) float32; it was dropped") as caught:
        blurred = blade.gaussian_blur(rgba, 1.0)
    assert [Path(w.filename).name for w in caught] == [Path(__file__).name]
    np.testing.assert_array_equal(blurred, blade.gaussian_blur(rgb, 1.0))
    with pytest.warns(UserWarning, match="values from") as caught:
        blade.denoise(rgb * 255, 20)
    assert [Path(w.filename).name for w in caught] == [Path(__file__).name]
    with pytest.warns(UserWarning) as caught:  # write_image: its alpha, then the clipping
        blade.write_image(str(tmp_path / "clipped.png"), rgba * 3)
    assert len(caught) == 2 and [Path(w.filename).name for w in caught] == [Path(__file__).name] * 2
    if BINARY:
        for name, array in (("gray", gray), ("rgba", rgba)):
            np.save(tmp_path / f"{name}.npy", array)
            r = subprocess.run([BINARY, "denoise", "--sigma", "20", tmp_path / f"{name}.npy", tmp_path / f"{name}-out.npy"],
                               capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
            np.testing.assert_array_equal(np.load(tmp_path / f"{name}-out.npy"),
                                          blade.denoise(array[:, :, :3] if name == "rgba" else gray, 20))


def test_wrong_argument_types_name_shapes_and_dtypes_not_values():
    """pybind11 alone would end its TypeError with the arrays' repr (pages of numbers)."""
    a = np.full((40, 50), 0.123456, dtype=np.float32)
    model = blade.Model.load(str(MODELS / "tv.blade"))
    calls = [lambda: blade.psnr(a), lambda: blade.psnr(a, "x"),
             lambda: model.run(a, steps="ten"), lambda: blade.solve("pm", a)]
    for call in calls:
        with pytest.raises(TypeError) as info:
            call()
        message = str(info.value)
        assert "ndarray (40, 50) float32" in message, message
        assert "0.123" not in message and "array(" not in message, message
        assert "The following argument types are supported" in message, message
    # The wrapping keeps names, docs and results.
    assert blade.psnr.__name__ == "psnr" and "PSNR" in blade.psnr.__doc__
    assert blade.psnr(a, a * 0.5) == pytest.approx(peak_signal_noise_ratio(a, a * 0.5, data_range=1))


def test_write_image_takes_the_path_first(tmp_path):
    u = RNG.random((10, 12), dtype=np.float32)
    blade.write_image(tmp_path / "u.npy", u)  # a pathlib path, as imageio accepts
    np.testing.assert_array_equal(np.load(tmp_path / "u.npy"), u)
    blade.write_image(str(tmp_path / "u8.png"), np.round(u * 255).astype(np.uint8))
    assert abs(blade.read_image(str(tmp_path / "u8.png")) - u).max() <= 0.5 / 255 + 1e-6
    with pytest.raises(TypeError, match="path comes first"):
        blade.write_image(u, str(tmp_path / "v.png"))
    assert not (tmp_path / "v.png").exists()


def test_every_path_may_be_a_pathlib_path(tmp_path):
    """read_image, Model.load / save and lists of image files take os.PathLike as well as str."""
    u = blade.gaussian_blur(RNG.random((64, 80), dtype=np.float32), 2)
    blade.write_image(tmp_path / "u.png", u)
    assert blade.read_image(tmp_path / "u.png").shape == u.shape
    pm = blade.Model.load(MODELS / "pm-monotone.blade")
    pm.save(tmp_path / "pm.blade")
    again = blade.Model.load(path=tmp_path / "pm.blade")
    np.testing.assert_array_equal(again.filters(), pm.filters())
    psnrs = [{k: v["psnr"] for k, v in row.items() if k != "name"}
             for files in ([tmp_path / "u.png"], [str(tmp_path / "u.png")])
             for row in blade.evaluate(again, files, cache="")]
    assert psnrs[0] == psnrs[1]


def test_read_image_is_c_contiguous(tmp_path):
    rgb = RNG.random((12, 14, 3), dtype=np.float32)
    blade.write_image(tmp_path / "rgb.tiff", rgb)
    back = blade.read_image(str(tmp_path / "rgb.tiff"))
    assert back.flags["C_CONTIGUOUS"] and back.dtype == np.float32 and back.shape == rgb.shape
    np.testing.assert_array_equal(back, rgb)


def test_color_outputs_are_c_contiguous_and_interleaved():
    # What OpenCV, PIL and scikit-image hand out and expect: (h, w, 3) float32 in C order, each
    # pixel's three samples together (the library's planes used to come out as a strided view).
    rgb = RNG.random((24, 32, 3), dtype=np.float32)
    upscaler = blade.Model.default_for("upscale", factor=2, degradation="area")
    outputs = {
        "upscale": blade.upscale(upscaler, rgb, factor=2, degradation="area"),
        "downscale": blade.downscale(rgb, 2, "area"),
        "gaussian_blur": blade.gaussian_blur(rgb, 1.0),
        "denoise": blade.denoise(rgb, sigma=10),
    }
    for name, out in outputs.items():
        assert out.ndim == 3 and out.shape[2] == 3, name
        assert out.flags["C_CONTIGUOUS"] and out.strides[2] == 4, (name, out.strides)
    # The interleaving keeps each channel: a box mean of each plane, computed in NumPy.
    box = rgb.reshape(12, 2, 16, 2, 3).mean(axis=(1, 3))
    np.testing.assert_allclose(outputs["downscale"], box, atol=1e-6)


def test_version_and_missing_files(tmp_path):
    assert re.fullmatch(r"\d+\.\d+\.\d+", blade.__version__)
    cmake = (ROOT / "CMakeLists.txt").read_text()
    assert f"VERSION {blade.__version__}" in cmake
    with pytest.raises(FileNotFoundError, match="nothing.png"):
        blade.read_image(str(tmp_path / "nothing.png"))
    with pytest.raises(FileNotFoundError, match="nothing.blade"):
        blade.Model.load(str(tmp_path / "nothing.blade"))


def test_write_image_takes_the_depth_of_an_integer_array_and_warns_on_clipping(tmp_path):
    from PIL import Image
    u16 = RNG.integers(0, 65535, (12, 14), endpoint=True).astype(np.uint16)
    blade.write_image(tmp_path / "a.png", u16)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "a.png")).astype(np.uint16), u16)
    f = RNG.random((12, 14), dtype=np.float32)
    blade.write_image(tmp_path / "b.png", f)
    assert np.asarray(Image.open(tmp_path / "b.png")).dtype == np.uint8  # PNG's default
    blade.write_image(tmp_path / "c.png", f, depth="16")
    assert Image.open(tmp_path / "c.png").mode.startswith("I")
    with pytest.raises(blade.Error, match="PNG holds 8- or 16-bit"):
        blade.write_image(tmp_path / "d.png", f, depth="float")
    with pytest.warns(UserWarning, match=r"3 of 168 pixels lie outside \[0, 1\] \(by up to 0.5\)"):
        g = f.copy()
        g[0, :3] = 1.5
        blade.write_image(tmp_path / "e.png", g)
    # An edge's small overshoot is clamped without a warning, as every imaging tool does.
    g = f.copy()
    g[:, 5] = 1.02
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        blade.write_image(tmp_path / "f.png", g)


def test_jpeg_quality_is_passed_to_the_encoder(tmp_path):
    """write_image(quality=) as ImageMagick's -quality: lower quality, smaller file, larger error;
    out of 1-100 is refused."""
    from PIL import Image
    photo = blade.read_image("/usr/lib/python3/dist-packages/skimage/data/astronaut.png")
    sizes, errors = [], []
    for q in (30, 95):
        blade.write_image(tmp_path / f"q{q}.jpg", photo, quality=q)
        sizes.append((tmp_path / f"q{q}.jpg").stat().st_size)
        back = np.asarray(Image.open(tmp_path / f"q{q}.jpg"), np.float64) / 255
        errors.append(np.mean((back - photo) ** 2))
    assert sizes[0] < sizes[1] / 2 and errors[0] > errors[1]
    with pytest.raises(blade.Error, match="quality"):
        blade.write_image(tmp_path / "bad.jpg", photo, quality=0)


def test_float_tiffs_are_read_by_tifffile_and_pil(tmp_path):
    """Float TIFFs are written without the floating-point predictor, which tifffile cannot
    decode without imagecodecs (not in Debian); integer TIFFs keep the horizontal one."""
    import tifffile
    from PIL import Image
    gray = RNG.random((12, 14), dtype=np.float32)
    color = RNG.random((12, 14, 3), dtype=np.float32)
    blade.write_image(tmp_path / "g.tiff", gray)
    blade.write_image(tmp_path / "c.tiff", color)
    assert np.array_equal(tifffile.imread(tmp_path / "g.tiff"), gray)
    assert np.array_equal(tifffile.imread(tmp_path / "c.tiff"), color)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "g.tiff")), gray)
    blade.write_image(tmp_path / "i.tiff", gray, depth="16")
    assert tifffile.imread(tmp_path / "i.tiff").dtype == np.uint16
    # float64 TIFFs are read as float64 NPY files are: rounded to float32.
    double = RNG.random((12, 14, 3))
    tifffile.imwrite(tmp_path / "d.tif", double, photometric="rgb")
    assert np.array_equal(blade.read_image(tmp_path / "d.tif"), double.astype(np.float32))


def test_a_float_image_in_0_255_is_warned_about_once_where_it_is_processed():
    """scikit-image's float convention is [0, 1]: a float array in 0-255 runs every PDE at the
    wrong contrast, so the operations that process an image say so in one line; a metric's
    operands (PSNR with peak 255) and in-range or integer inputs do not warn."""
    import warnings
    u = RNG.random((32, 40), dtype=np.float32)
    pm = blade.Model.load(str(MODELS / "pm.blade"))
    for call in (lambda a: pm.run(a), lambda a: blade.denoise(a, 10), lambda a: blade.solve(a, "pm", time=0.5)):
        with pytest.warns(UserWarning, match=r"intensities are in \[0, 1\].*divided by 255") as caught:
            call(u * 255)
        assert len(caught) == 1
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            call(u)
            call((u * 255).astype(np.uint8))
            call(np.clip(u * 1.4 - 0.2, -0.45, 1.45))  # a little outside: overshoot, ringing
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert blade.psnr(u * 255, u * 255 + 1, peak=255) == pytest.approx(48.13, abs=0.01)


def test_solve_refuses_an_unstable_step_count_unless_forced():
    u = RNG.random((16, 16), dtype=np.float32)
    with pytest.raises(blade.Error, match="the fewest stable steps are 40"):
        blade.solve(u, "tv", steps=20)  # T = 0.1 at eps 0.01: dt limit 0.0025
    assert np.isfinite(blade.solve(u, "tv", steps=40)).all()
    blade.solve(u, "tv", steps=20, force=True)  # the user's call: runs (and may blow up)


def test_a_model_that_does_not_fit_the_application_is_refused_unless_forced():
    u = RNG.random((24, 32), dtype=np.float32)
    ced = blade.Model.load(str(MODELS / "ced.blade"))
    with pytest.raises(blade.Error, match="segment needs a tv model"):
        blade.segment(u, ced, iterations=5)
    assert blade.segment(u, ced, iterations=5, force_model=True).shape == u.shape
    ch = blade.Model.load(str(MODELS / "ch.blade"))
    for call in (lambda: blade.deconvolve(ch, u), lambda: blade.upscale(ch, u),
                 lambda: blade.restore(ch, u, "blur:sigma=1")):
        with pytest.raises(blade.Error, match="needs a"):
            call()


def test_read_image_warns_as_the_command_line_does_about_alpha_and_extra_pages(tmp_path):
    """An alpha channel dropped and TIFF pages beyond the first skipped: one warning each, at the
    caller's line, the same text as `blade` prints (ReadWarnings); a plain file warns nothing."""
    from PIL import Image
    rng = np.random.default_rng(3)
    rgba = (rng.random((16, 16, 4)) * 255).astype(np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    pages = [Image.fromarray((rng.random((16, 16)) * 255).astype(np.uint8)) for _ in range(3)]
    pages[0].save(tmp_path / "pages.tif", save_all=True, append_images=pages[1:])
    Image.fromarray(rgba[..., :3]).save(tmp_path / "rgb.png")
    with pytest.warns(UserWarning, match="rgba.png' has an alpha channel") as seen:
        out = blade.read_image(str(tmp_path / "rgba.png"))
    assert out.shape == (16, 16, 3) and seen[0].filename == __file__
    with pytest.warns(UserWarning, match="pages.tif' has 3 pages"):
        blade.read_image(str(tmp_path / "pages.tif"))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        blade.read_image(str(tmp_path / "rgb.png"))


def test_palette_tiffs_read_as_pil_and_libtiff_expand_them(tmp_path):
    """PIL stores a palette TIFF's colormap as v x 256; reading entries / 65535 made white
    0.9961 (255 -> 254 on an 8-bit round trip). The high byte is the value, as PIL reads it."""
    from PIL import Image
    from skimage import data
    pal = Image.fromarray(data.astronaut()[::4, ::4]).convert("P", palette=Image.ADAPTIVE, colors=16)
    pal.putpalette([255, 255, 255] + list(pal.getpalette()[3:48]))  # white is one of the entries
    pal.save(tmp_path / "p.tif")
    expected = np.asarray(Image.open(tmp_path / "p.tif").convert("RGB")).astype(np.float32) / 255
    got = blade.read_image(str(tmp_path / "p.tif"))
    np.testing.assert_array_equal(got, expected)
    assert (got == 1.0).all(axis=2).any()


def test_nested_lists_are_images_as_the_arrays_they_spell():
    """The stub types images as ArrayLike: a nested list of floats runs as np.asarray of it would,
    and a nested list of Python ints is refused as the int64 array it spells."""
    model = blade.Model.load(str(MODELS / "tv-plain.blade"))
    rows = RNG.random((16, 16)).astype(np.float32)
    np.testing.assert_array_equal(model.run(rows.tolist()), model.run(np.asarray(rows.tolist(), np.float64)))
    assert blade.psnr([[0.1, 0.2], [0.3, 0.4]], [[0.1, 0.2], [0.3, 0.5]]) == pytest.approx(
        blade.psnr(np.array([[0.1, 0.2], [0.3, 0.4]]), np.array([[0.1, 0.2], [0.3, 0.5]])))
    with pytest.raises(blade.Error, match="int64"):
        model.run([[1] * 16] * 16)
