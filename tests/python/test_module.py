"""The Python module against independent NumPy / scikit-image versions of the same math."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

ROOT = Path(os.environ.get("BLADE_SOURCE_DIR", Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(ROOT))
blade = pytest.importorskip("blade")

RNG = np.random.default_rng(7)


def smooth_image(h=48, w=64, channels=None):
    shape = (h, w) if channels is None else (h, w, channels)
    return blade.gaussian_blur(RNG.random(shape, dtype=np.float32), 1.5)


def numpy_perona_malik_step(u, dt, c, dx=1.0):
    """REFERENCE_SCHEMES Perona-Malik: face fluxes g(D^2) D, zero flux through the border."""
    k2 = (c * dx) ** 2
    fx = np.zeros_like(u, dtype=np.float64)
    fy = np.zeros_like(u, dtype=np.float64)
    d = np.diff(u.astype(np.float64), axis=1)
    fx[:, :-1] = d / (1 + d * d / k2)
    d = np.diff(u.astype(np.float64), axis=0)
    fy[:-1, :] = d / (1 + d * d / k2)
    div = fx.copy()
    div[:, 1:] -= fx[:, :-1]
    div += fy
    div[1:, :] -= fy[:-1, :]
    return u + dt / dx**2 * div


def numpy_tv_rhs(u, eps):
    """REFERENCE_SCHEMES TV flow (dx = 1): face fluxes D+ u / sqrt(eps^2 + (D+ u)^2 + minmod(the
    other axis' one-sided differences)^2), zero through the border, and their divergence."""
    p = np.pad(u.astype(np.float64), 1, mode="edge")
    c = p[1:-1, 1:-1]
    dxp, dxm = p[1:-1, 2:] - c, c - p[1:-1, :-2]
    dyp, dym = p[2:, 1:-1] - c, c - p[:-2, 1:-1]

    def minmod(a, b):
        return np.where(a * b > 0, np.where(np.abs(a) < np.abs(b), a, b), 0.0)

    a = dxp / np.sqrt(eps**2 + dxp**2 + minmod(dyp, dym) ** 2)
    b = dyp / np.sqrt(eps**2 + dyp**2 + minmod(dxp, dxm) ** 2)
    div = a.copy()
    div[:, 1:] -= a[:, :-1]
    div += b
    div[1:, :] -= b[:-1, :]
    return div


def numpy_ch_rhs(u, gamma):
    """Cahn-Hilliard: Lap(W'(u) - gamma Lap u), W'(u) = 4u^3 - 6u^2 + 2u, 5-point Neumann Laplacian."""
    def lap(v):
        p = np.pad(v, 1, mode="edge")
        return p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4 * v
    v = u.astype(np.float64)
    return lap(4 * v**3 - 6 * v**2 + 2 * v - gamma * lap(v))


def numpy_apply_filters(z, filters, sel):
    """out[y, x] = sum_ij filters[sel[y, x], i, j] z[clamp(y + i - r), clamp(x + j - r)]."""
    r = filters.shape[1] // 2
    h, w = z.shape
    padded = np.pad(z.astype(np.float64), r, mode="edge")
    out = np.zeros((h, w))
    for i in range(2 * r + 1):
        for j in range(2 * r + 1):
            out += filters[sel, i, j] * padded[i:i + h, j:j + w]
    return out


def test_perona_malik_step_matches_numpy():
    u = smooth_image()
    got = blade.solve(u, "pm", time=0.25, steps=1, params={"c": 0.1})
    want = numpy_perona_malik_step(u, 0.25, 0.1)
    assert np.max(np.abs(got - want)) < 2e-6
    # Mass is conserved by the flux form.
    assert abs(float(got.sum(dtype=np.float64)) - float(u.sum(dtype=np.float64))) < 1e-3


@pytest.mark.parametrize("size", [3, 5, 7])
def test_apply_filters_matches_numpy(size):
    z = smooth_image(37, 29)
    filters = RNG.standard_normal((11, size, size)).astype(np.float32)
    sel = RNG.integers(0, 11, size=z.shape).astype(np.int32)
    got = blade.apply_filters(z, filters, sel)
    assert np.max(np.abs(got - numpy_apply_filters(z, filters, sel))) < 1e-4


def test_classical_rhs_matches_numpy():
    u = smooth_image()
    pm = blade.classical_rhs(u, "pm", params={"c": 0.1})
    assert np.max(np.abs(u + 0.25 * pm - numpy_perona_malik_step(u, 0.25, 0.1))) < 2e-6
    tv = blade.classical_rhs(u, "tv", params={"eps": 0.05})
    want = numpy_tv_rhs(u, 0.05)
    assert np.max(np.abs(tv - want)) < 1e-4 * max(1.0, np.abs(want).max())
    ch = blade.classical_rhs(u, "ch", params={"gamma": 0.3})
    assert np.max(np.abs(ch - numpy_ch_rhs(u, 0.3))) < 1e-4
    with pytest.raises(blade.Error, match="tv, pm, ch"):
        blade.classical_rhs(u, "ced")


def test_model_step_is_its_filters_applied_to_its_selection():
    """The shipped TV model carries the scheme term: bank 0 filters u, bank 1 TV's F(u)."""
    model = blade.Model.load(str(ROOT / "models" / "tv.blade"))
    u = smooth_image(40, 56)
    sel = model.select(u)
    assert sel.dtype == np.int32 and sel.shape == u.shape
    assert sel.min() >= 0 and sel.max() < model.filters().shape[0]
    assert model.scheme_term and model.num_banks == 2
    assert np.array_equal(model.select(u, bank=1), sel)
    rhs = numpy_apply_filters(u, model.filters(), sel) + numpy_apply_filters(
        numpy_tv_rhs(u, model.pde_params["eps"]), model.filters(1), sel)
    got = model.run(u, steps=1)
    assert np.max(np.abs(got - (u + model.dt * rhs))) < 1e-5
    assert np.allclose(model.rhs(u), rhs, atol=1e-4 * max(1.0, np.abs(rhs).max()))


def test_metrics_match_scikit_image():
    a, b = smooth_image(), smooth_image()
    assert blade.psnr(a, b) == pytest.approx(peak_signal_noise_ratio(a, b, data_range=1.0), abs=1e-6)
    # The Gaussian-window SSIM of Wang 2004 (as tf.image.ssim), scored in float64 by skimage.
    want = structural_similarity(a.astype(np.float64), b.astype(np.float64), gaussian_weights=True,
                                 sigma=1.5, use_sample_covariance=False, data_range=1.0)
    assert blade.ssim(a, b) == pytest.approx(want, abs=1e-4)


def test_ssim_gradient_matches_finite_differences_of_scikit_image():
    # The training loss's gradient, checked against scikit-image's SSIM (an independent code).
    rng = np.random.default_rng(4)
    b = rng.random((20, 24), dtype=np.float32)
    a = np.clip(b + 0.2 * rng.standard_normal(b.shape), 0, 1).astype(np.float32)

    def sk(x):
        return structural_similarity(x.astype(np.float64), b.astype(np.float64), gaussian_weights=True,
                                     sigma=1.5, use_sample_covariance=False, data_range=1.0)

    value, grad = blade.ssim_gradient(a, b)
    assert grad.shape == a.shape
    assert value == pytest.approx(sk(a), abs=1e-6)
    h = 1e-3
    for y, x in [(0, 0), (5, 7), (10, 12), (19, 23), (9, 3)]:
        ap, am = a.astype(np.float64), a.astype(np.float64)
        ap[y, x] += h
        am[y, x] -= h
        numeric = (sk(ap) - sk(am)) / (2 * h)
        assert grad[y, x] == pytest.approx(numeric, rel=1e-3, abs=1e-7)


def test_outputs_are_c_contiguous_with_the_right_layout():
    gray = blade.gaussian_blur(np.ones((6, 5), np.float32), 1.0)
    assert gray.shape == (6, 5) and gray.dtype == np.float32
    assert not gray.flags["OWNDATA"] and gray.flags["C_CONTIGUOUS"]  # the library's buffer
    rgb = np.stack([np.full((6, 5), v, np.float32) for v in (0.1, 0.5, 0.9)], axis=2)
    out = blade.gaussian_blur(rgb, 1.0)
    assert out.shape == (6, 5, 3) and out.flags["C_CONTIGUOUS"]
    assert out.strides == (5 * 3 * 4, 3 * 4, 4)  # interleaved, as NumPy and OpenCV lay it out
    assert np.allclose(out[..., 0], 0.1) and np.allclose(out[..., 2], 0.9)


def test_inputs_of_any_numeric_dtype_and_layout():
    u = smooth_image()
    assert np.array_equal(blade.to_luma(u.astype(np.float64)), blade.to_luma(u))
    assert np.array_equal(blade.to_luma(np.asfortranarray(u)), u)


def test_errors_carry_the_library_message():
    with pytest.raises(FileNotFoundError, match="cannot open"):  # Python's own, as open()
        blade.read_image("/nonexistent/file.png")
    with pytest.raises(blade.Error, match="is a directory"):  # other failures: blade.Error
        blade.read_image("/")
    with pytest.raises(blade.Error, match=r"\(H, W, 3\) or \(H, W, 4\)"):
        blade.psnr(np.zeros((2, 2, 2, 2)), np.zeros((2, 2, 2, 2)))
    with pytest.raises(blade.Error, match="unknown|tv, pm"):
        blade.solve(smooth_image(), "heat")
    with pytest.raises(blade.Error, match="NaN|infinite"):
        blade.Model.load(str(ROOT / "models" / "tv.blade")).run(np.full((8, 8), np.nan, np.float32))
    assert issubclass(blade.DivergedError, blade.Error) and issubclass(blade.Error, RuntimeError)
    # The thread count is checked (100,000 threads crashed the interpreter), and the count kept.
    before = blade.threads()
    for bad in (-1, 100000):
        with pytest.raises(blade.Error, match="threads must be 0"):
            blade.set_threads(bad)
    assert blade.threads() == before


def test_zero_threads_means_omp_num_threads_else_all_cores():
    """set_threads(0) (and the tool's --threads 0, the same library call) restores OpenMP's
    default: OMP_NUM_THREADS when set, not every core regardless."""
    import subprocess
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import blade; first = blade.threads(); "
            "blade.set_threads(3); three = blade.threads(); blade.set_threads(0); "
            "print(first, three, blade.threads())")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", code, str(ROOT)], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["1", "3", "1"]
    env.pop("OMP_NUM_THREADS")
    out = subprocess.run([sys.executable, "-c", code, str(ROOT)], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    cores = str(len(os.sched_getaffinity(0)))
    assert out == [cores, "3", cores]


def test_runs_refuse_a_step_larger_than_the_models_unless_unsafe():
    """An explicit step past the trained dt blows up (100x: within ten steps), monotone models
    included; smaller steps and unsafe=True are allowed, and denoise takes unsafe= too."""
    u = smooth_image(32, 32)
    for name in ("tv", "tv-monotone"):
        model = blade.Model.load(str(ROOT / "models" / f"{name}.blade"))
        with pytest.raises(blade.Error, match="larger than the"):
            model.run(u, steps=10, dt=model.dt * 20)
        assert np.all(np.isfinite(model.run(u, steps=10, dt=model.dt / 2)))
        try:  # allowed, and it leaves the input's range (or blows up)
            assert np.ptp(model.run(u, steps=10, dt=model.dt * 20, unsafe=True)) > np.ptp(u) + 0.3
        except blade.DivergedError:
            pass
    # A monotone model keeps its maximum principle past its measured horizon: no refusal.
    monotone = blade.Model.load(str(ROOT / "models" / "pm-monotone.blade"))
    out = monotone.run(u, steps=monotone.safe_steps + 5)
    assert u.min() - 1e-5 <= out.min() and out.max() <= u.max() + 1e-5
    with pytest.raises(blade.Error, match="unsafe=True"):
        blade.denoise(u, 20, time=100)
    assert np.all(np.isfinite(blade.denoise(u, 20, time=20, unsafe=True)))


def test_images_and_models_round_trip(tmp_path):
    u = smooth_image()
    blade.write_image(str(tmp_path / "u.npy"), u)
    assert np.array_equal(blade.read_image(str(tmp_path / "u.npy")), u)
    blade.write_image(str(tmp_path / "u.png"), u)
    assert np.max(np.abs(blade.read_image(str(tmp_path / "u.png")) - u)) <= 0.5 / 255 + 1e-6
    model = blade.Model.load(str(ROOT / "models" / "ced-restore.blade"))  # a point model
    assert model.safe_steps > 0  # measured when it was trained
    filters = model.filters() * 0.5
    model.set_filters(filters)
    assert model.safe_steps == -1  # measured on other filters: no longer claimed
    model.save(str(tmp_path / "m.blade"))
    again = blade.Model.load(str(tmp_path / "m.blade"))
    assert np.array_equal(again.filters(), filters) and again.safe_steps == -1
    # Filters that blow up are named as a cause, not only the time step.
    wild = blade.Model.load(str(ROOT / "models" / "ced-restore.blade"))
    wild.set_filters(wild.filters() * 30)
    with pytest.raises(blade.DivergedError, match="filters that are not stable"):
        wild.run(smooth_image(), steps=200)
    bad = filters.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(blade.Error, match="non-finite"):
        model.set_filters(bad)
    assert np.array_equal(model.filters(), filters)  # unchanged after the refused update


def test_features_orientation_of_an_edge():
    u = np.zeros((32, 32), np.float32)
    u[:, 16:] = 1
    f = blade.features(u, rho=1.0)
    # The gradient points along x: orientation 0 on the edge, strength largest there.
    assert f["orientation"][16, 15] == pytest.approx(0.0, abs=1e-6)
    assert f["strength"][16, 15] > f["strength"][16, 2]
    v = u.T.copy()
    assert blade.features(v)["orientation"][15, 16] == pytest.approx(np.pi / 2, abs=1e-5)


def test_applications_basic_properties():
    model = blade.Model.load(str(ROOT / "models" / "tv.blade"))
    u = smooth_image(64, 64)
    mask = blade.segment(u, model, iterations=20)
    assert set(np.unique(mask)) <= {0.0, 1.0}
    # Without a model: the CLI's default, the shipped tv-plain with mu 0.04; reference=True runs
    # the classical scheme (mu 0.2). Both masks are white on the brighter region.
    tv_plain = blade.Model.load(str(ROOT / "models" / "tv-plain.blade"))
    assert np.array_equal(blade.segment(u, iterations=20), blade.segment(u, tv_plain, iterations=20))
    ref = blade.segment(u, iterations=20, reference=True)
    for m in (mask, ref):
        assert u[m == 1].mean() > u[m == 0].mean()
    with pytest.raises(blade.Error, match="takes no model"):
        blade.segment(u, model, reference=True)
    assert blade.upscale(model, u[:16, :16], factor=4).shape == (64, 64)
    zero = np.zeros((64, 64, 2), np.float32)
    assert np.array_equal(blade.resample(u, zero, method="bicubic"), u)
    # BLADE resampling without a model uses the CLI's default, the shipped resample3.
    shift = np.full((64, 64, 2), 0.3, np.float32)
    resample3 = blade.Model.load(str(ROOT / "models" / "resample3.blade"))
    assert np.array_equal(blade.resample(u, shift), blade.resample(u, shift, resample3))
    with pytest.raises(blade.Error, match="bicubic takes none"):  # not silently ignored
        blade.resample(u, shift, resample3, method="bicubic")
    flow = blade.align(u, u)
    assert flow.shape == (64, 64, 2) and np.max(np.abs(flow)) < 1e-3


def test_the_gil_is_released_while_the_library_computes():
    big = smooth_image(1024, 1024)
    ticks = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(1)

    t = threading.Thread(target=count)
    t.start()
    before = len(ticks)
    blade.solve(big, "tv", steps=40)  # ~0.5 s of work with the GIL released
    during = len(ticks) - before
    stop.set()
    t.join()
    assert during > 1000


def test_the_type_stub_parses_and_names_everything_the_module_exports():
    """blade/__init__.pyi is valid Python and declares every public name of the module (a binding
    added without its stub, or a stub signature that is not even syntax, fails here)."""
    import ast
    tree = ast.parse((ROOT / "blade" / "__init__.pyi").read_text())
    stubbed = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    stubbed |= {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    stubbed |= {n.target.id for n in tree.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}
    import types
    public = {name for name in dir(blade)
              if not name.startswith("_") and not isinstance(getattr(blade, name), types.ModuleType)}
    assert public - stubbed == set()


def _runtime_parameter_names(obj):
    """Parameter names from pybind11's signature line (the first line of the docstring)."""
    import re
    lines = (obj.__doc__ or "").splitlines()
    match = re.match(r"\w+\((.*)\) ->", lines[0]) if lines else None
    if not match:
        return None
    names, depth, current = [], 0, ""
    for ch in match.group(1) + ",":
        depth += (ch in "[(") - (ch in "])")
        if ch == "," and depth == 0:
            name = current.split(":")[0].strip()
            if name and name not in ("*", "self"):
                names.append(name)
            current = ""
        else:
            current += ch
    return names


def test_the_type_stub_signatures_match_the_bindings():
    """Every function and method the stub declares takes the parameters the binding takes, in
    order (a keyword added to a binding without its stub, or removed, fails here)."""
    import ast
    tree = ast.parse((ROOT / "blade" / "__init__.pyi").read_text())
    pairs = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            pairs.append((getattr(blade, node.name, None), node))
        elif isinstance(node, ast.ClassDef):
            cls = getattr(blade, node.name, None)
            pairs += [(getattr(cls, f.name, None), f) for f in node.body if isinstance(f, ast.FunctionDef)
                      and not any(isinstance(d, ast.Name) and d.id == "property" for d in f.decorator_list)]
    checked = 0
    for obj, fn in pairs:
        assert obj is not None, f"{fn.name} is stubbed but not in the module"
        runtime = _runtime_parameter_names(obj)
        if runtime is None:  # a Python-level function or a property: not a pybind11 signature
            continue
        a = fn.args
        stub = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs if x.arg != "self"]
        assert stub == runtime, f"{fn.name}: stub {stub}, binding {runtime}"
        checked += 1
    assert checked > 30


def test_ctrl_c_stops_a_long_run_and_errors_are_value_errors():
    """A notebook's interrupt reaches the library between steps (KeyboardInterrupt, not a run to
    the end), and blade.Error is a ValueError as well as a RuntimeError."""
    import os
    import signal
    import threading
    import time

    u = smooth_image(64, 64)
    for call in (lambda: blade.segment(u, iterations=1000000, reference=True),
                 lambda: blade.solve(u, "pm", time=1e6)):
        timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        t0 = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            call()
        timer.join()
        assert time.monotonic() - t0 < 10  # the whole run takes minutes
    assert blade.segment(u, iterations=5, reference=True).shape == u.shape  # still usable
    # A long run on a daemon thread when Python exits: the process ends cleanly (the check
    # stays off other threads and off a finalizing interpreter; it had aborted the process).
    script = ("import sys, threading, time; sys.path.insert(0, %r); import numpy as np, blade\n"
              "u = np.random.default_rng(0).random((64, 64)).astype(np.float32)\n"
              "threading.Thread(target=lambda: blade.solve(u, 'pm', time=1e6), daemon=True).start()\n"
              "time.sleep(0.3)\n" % str(ROOT))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert issubclass(blade.Error, ValueError) and issubclass(blade.Error, RuntimeError)
    with pytest.raises(ValueError):
        blade.gaussian_blur(u, -1.0)


def test_nan_images_are_refused_by_features_and_select_as_by_run():
    """NaN spreads through the structure tensor's blur into every feature around it."""
    bad = smooth_image(64, 64).copy()
    bad[3, 3] = np.nan
    model = blade.Model.load(str(ROOT / "models" / "tv.blade"))
    for call in (lambda: blade.features(bad), lambda: model.select(bad), lambda: model.run(bad)):
        with pytest.raises(blade.Error, match="NaN or infinite"):
            call()
    # A NaN parameter is named as such, not as a point outside the model's box.
    with pytest.raises(blade.Error, match=r"parameter eps must be finite \(got nan\)"):
        model.run(smooth_image(64, 64), params={"eps": float("nan")})


def test_a_model_says_what_it_is():
    assert repr(blade.Model.load("tv")) == "<blade.Model tv direct model, dt 0.01, 10 steps, 576 7x7 + 576 3x3 filters>"
    assert repr(blade.Model.load("denoise-gray")) == "<blade.Model gray learned denoiser, 16 banks of 216 9x9 filters>"


def test_color_photographs_run_channel_by_channel_except_ced():
    """TV, PM and CH evolve each channel alone, so their models run a color image as three gray
    ones (selecting on luma made ch.blade diverge on astronaut); CED couples the channels and its
    model selects on luma. The kodak4x construction on a color crop of coffee: CH beats the
    classical scheme at the coarse grid, as on gray photographs."""
    from skimage import data
    hr = np.ascontiguousarray(data.coffee()[:128, 160:288])
    lr = blade.downscale(hr, 4)
    for name in ("ch", "pm", "ced"):
        m = blade.Model.load(name)
        color = m.run(lr)
        each = np.stack([m.run(np.ascontiguousarray(lr[..., c])) for c in range(3)], -1)
        assert (np.array_equal(color, each)) == (name != "ced"), name
    m = blade.Model.load("ch")
    ref = blade.downscale(blade.solve(hr, "ch", time=4.0, steps=160, dx=0.25), 4)
    classical = blade.solve(lr, "ch", time=4.0)
    blade_psnr, classical_psnr = blade.psnr(m.run(lr), ref, 1.0), blade.psnr(classical, ref, 1.0)
    assert blade_psnr > classical_psnr + 3, (blade_psnr, classical_psnr)


def test_runs_past_the_covered_times_or_the_stable_range_are_warned_about():
    """ch.blade is trained for T in [2, 8] and measured stable for 177 steps of 0.4 on training
    photographs; 175 steps (T = 70) on camera at full size leave its measured range by far
    (values up to about 6000), which was written clipped without a word. TV's 120 steps
    (T = 1.2) stay inside what tv.blade covers, and a default run warns of nothing."""
    import warnings
    from skimage import data
    u = data.camera()
    ch = blade.Model.load("ch")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ch.run(u, steps=175)
    text = " | ".join(str(w.message) for w in caught)
    assert "past the times this ch model covers (t in [2, 8]" in text, text
    assert "the run has likely become unstable on this image" in text, text
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ch.run(u)
        blade.Model.load("tv").run(u, steps=120)


def test_a_model_trained_on_few_photographs_says_its_horizon_is_weak_and_records_its_call(tmp_path):
    """The stability horizon measured on a handful of validation photographs does not carry to
    others (a TV model from 30 photographs was stable for 57 steps on its 3 and left its range
    at the first step on others): training says so. A model trained from Python records its
    call, date and revision as `blade train` records its command."""
    import warnings
    from PIL import Image
    from skimage import data
    files = []
    for i, img in enumerate((data.astronaut(), data.coffee(), data.chelsea(), data.rocket())):
        path = tmp_path / f"p{i}.png"
        Image.fromarray(np.ascontiguousarray(img[:96, :128])).save(path)
        files.append(str(path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = blade.train("tv", tmp_path, epochs=0, stability_steps=50)  # a folder, as --images
    text = " | ".join(str(w.message) for w in caught)
    assert "stable for only" in text or "measured on only" in text, text
    for key in ("date", "revision", "command", "train_seconds"):
        assert model.provenance[key], key
    assert model.provenance["command"] == "Python blade.train on 4 images"
    assert blade.list_images(tmp_path) == files
