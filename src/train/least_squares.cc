// Least-squares initialisation: per-filter normal equations (direct form), conjugate gradients
// (flux form).
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "blade/error.h"
#include "blade/parallel.h"
#include "blade/train.h"
#include "train/normal_equations.h"

namespace blade {

NormalEquations::NormalEquations(int f, int t)
    : filters(f),
      taps(t),
      a(std::size_t(f) * t * t, 0.0),
      b(std::size_t(f) * t, 0.0),
      count(f, 0) {}

void NormalEquations::Add(const NormalEquations& o) {
  if (o.filters != filters || o.taps != taps || o.a.size() != a.size() || o.b.size() != b.size() ||
      o.count.size() != count.size())
    Fail("normal equations of different shapes cannot be added (", filters, "x", taps, " vs ",
         o.filters, "x", o.taps, ")");
  for (std::size_t i = 0; i < a.size(); ++i) a[i] += o.a[i];
  for (std::size_t i = 0; i < b.size(); ++i) b[i] += o.b[i];
  for (int k = 0; k < filters; ++k) count[k] += o.count[k];
}

namespace {

// The taps of filter k of a direct model, all banks together: bank 0's, then (with a scheme
// term) bank 1's. The least-squares unknowns and the newton preconditioner use this layout.
int JointTaps(const Model& model) {
  int n = 0;
  for (const Bank& b : model.banks) n += b.filters.taps_per_filter();
  return n;
}

// The symmetrised per-filter normal equations of a direct model's one-step problem over `data`
// (with a scheme term, in the joint layout: a pixel's sample is its patch of u and of F(u)).
NormalEquations AccumulateDirect(const Model& model, const std::vector<Sequence>& data) {
  const Bank& bank = model.banks[0];
  const int n = JointTaps(model), filters = bank.filters.count;
  std::vector<int> sizes;
  for (const Bank& b : model.banks) sizes.push_back(b.filters.size);
  // Fixed chunks of sequences, summed in order: identical for any thread count.
  const int chunks = std::max(1, std::min<int>(16, int(data.size())));
  std::vector<NormalEquations> partial(chunks, NormalEquations(filters, n));
  ParallelFor(0, chunks, [&](int c) {
    PatchAccumulator acc(partial[c], sizes);
    for (std::size_t s = data.size() * c / chunks; s < data.size() * (c + 1) / chunks; ++s)
      for (std::size_t k = 0; k + 1 < data[s].size(); ++k) {
        const Image& u = data[s][k];
        const Image scheme = model.scheme_term ? SchemeInput(model, u) : Image();
        std::vector<const Image*> inputs{&u};
        if (model.scheme_term) inputs.push_back(&scheme);
        acc.Add(inputs, Select(bank.selection, u), data[s][k + 1], u, model.dt);
      }
  });
  NormalEquations total(filters, n);
  for (const auto& p : partial) total.Add(p);
  // Only the lower triangle was accumulated.
  for (int k = 0; k < filters; ++k) {
    double* a = total.a.data() + std::size_t(k) * n * n;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < i; ++j) a[j * n + i] = a[i * n + j];
  }
  return total;
}

int SolveDirect(Model& model, const NormalEquations& total, const TrainOptions& o) {
  const int n = JointTaps(model), filters = model.banks[0].filters.count;
  if (total.filters != filters || total.taps != n)
    Fail("normal equations for ", total.filters, " filters of ", total.taps,
         " taps do not fit a model of ", filters, " filters of ", n, " taps");
  const long min_samples = o.min_samples > 0 ? o.min_samples : 4L * n;
  return SolvePerFilterNormalEquations(total.a, total.b, total.count, n, o.ridge, min_samples,
                                       "least squares", [&](int k, const std::vector<double>& x) {
                                         int i = 0;
                                         for (Bank& b : model.banks)
                                           for (int j = 0; j < b.filters.taps_per_filter(); ++j)
                                             b.filters.filter(k)[j] = float(x[i++]);
                                       });
}

int FitDirect(Model& model, const std::vector<Sequence>& data, const TrainOptions& o) {
  return SolveDirect(model, AccumulateDirect(model, data), o);
}

}  // namespace

// Flux form: rhs = div(Gx, Gy) couples neighbouring filters, so the one-step problem's normal
// equations (F^T F + lambda I) x = b are joint; conjugate gradients solve them, with F applied
// through EvaluateRhs and F^T through EvaluateRhsBackward (selections precomputed and held
// fixed), preconditioned by the diagonal.
struct FluxPreconditioner::Impl {
  struct Pair {
    const Image* u;
    Image d;  // (u_{k+1} - u_k) / dt
    std::vector<std::vector<std::int32_t>> sel;
  };
  using Taps = std::vector<std::vector<double>>;

  Model model;  // the layout (selections, filter sizes); its taps are not used
  std::vector<Pair> pairs;
  double lambda = 0, samples = 0;
  int iterations = 0;
  Taps diag;  // the inverse Jacobi diagonal

  Taps Zeros() const {
    Taps v(model.banks.size());
    for (std::size_t b = 0; b < v.size(); ++b) v[b].assign(model.banks[b].filters.taps.size(), 0.0);
    return v;
  }
  static double Dot(const Taps& a, const Taps& b) {
    double s = 0;
    for (std::size_t k = 0; k < a.size(); ++k)
      for (std::size_t j = 0; j < a[k].size(); ++j) s += a[k][j] * b[k][j];
    return s;
  }
  Model WithTaps(const Taps& x) const {
    Model m = model;
    for (std::size_t b = 0; b < x.size(); ++b)
      for (std::size_t j = 0; j < x[b].size(); ++j) m.banks[b].filters.taps[j] = float(x[b][j]);
    return m;
  }
  // F^T applied to per-pair images g(pair), summed in pair order over fixed chunks.
  Taps ApplyFt(const std::function<Image(std::size_t, const Model&)>& g, const Model& m) const {
    const int chunks = std::max(1, std::min<int>(16, int(pairs.size())));
    std::vector<Taps> part(chunks);
    ParallelFor(0, chunks, [&](int c) {
      part[c] = Zeros();
      for (std::size_t i = pairs.size() * c / chunks; i < pairs.size() * (c + 1) / chunks; ++i)
        EvaluateRhsBackward(m, *pairs[i].u, pairs[i].sel, g(i, m), part[c]);
    });
    Taps total = Zeros();
    for (const Taps& p : part)
      for (std::size_t b = 0; b < p.size(); ++b)
        for (std::size_t j = 0; j < p[b].size(); ++j) total[b][j] += p[b][j];
    return total;
  }
  // (F^T F + lambda I) p.
  Taps Normal(const Taps& p) const {
    Taps r = ApplyFt(
        [&](std::size_t i, const Model& m) { return EvaluateRhs(m, *pairs[i].u, pairs[i].sel); },
        WithTaps(p));
    for (std::size_t b = 0; b < r.size(); ++b)
      for (std::size_t j = 0; j < r[b].size(); ++j) r[b][j] += lambda * p[b][j];
    return r;
  }
  Taps Jacobi(const Taps& v) const {
    Taps out = v;
    for (std::size_t b = 0; b < out.size(); ++b)
      for (std::size_t j = 0; j < out[b].size(); ++j) out[b][j] *= diag[b][j];
    return out;
  }
  // Preconditioned conjugate gradients from x = 0.
  Taps Solve(const Taps& rhs) const {
    Taps x = Zeros(), r = rhs;
    Taps z = Jacobi(r);
    Taps p = z;
    double rz = Dot(r, z);
    const double rr0 = Dot(r, r);
    for (int it = 0; it < iterations && Dot(r, r) > 1e-20 * rr0; ++it) {
      const Taps ap = Normal(p);
      const double alpha = rz / Dot(p, ap);
      for (std::size_t b = 0; b < x.size(); ++b)
        for (std::size_t j = 0; j < x[b].size(); ++j) {
          x[b][j] += alpha * p[b][j];
          r[b][j] -= alpha * ap[b][j];
        }
      z = Jacobi(r);
      const double rz_new = Dot(r, z);
      for (std::size_t b = 0; b < p.size(); ++b)
        for (std::size_t j = 0; j < p[b].size(); ++j) p[b][j] = z[b][j] + rz_new / rz * p[b][j];
      rz = rz_new;
    }
    return x;
  }
};

FluxPreconditioner::FluxPreconditioner(const Model& model, const std::vector<Sequence>& data,
                                       double ridge, int iterations) {
  if (model.form != ModelForm::kFlux) Fail("the flux preconditioner is for flux models");
  auto impl = std::make_shared<Impl>();
  Impl& m = *impl;
  m.model = model;
  m.iterations = iterations;
  for (const Sequence& s : data)
    for (std::size_t k = 0; k + 1 < s.size(); ++k) {
      Image d = s[k + 1].Copy();
      for (std::size_t i = 0; i < d.size(); ++i)
        d.data()[i] = float((double(d.data()[i]) - s[k].data()[i]) / model.dt);
      m.samples += double(d.size());
      m.pairs.push_back({&s[k], std::move(d), {}});
    }
  ParallelFor(0, int(m.pairs.size()),
              [&](int i) { m.pairs[i].sel = ComputeSelections(model, *m.pairs[i].u); });
  // Scale the ridge by the mean diagonal of F^T F, estimated with one random probe.
  {
    Impl::Taps probe = m.Zeros();
    for (std::size_t b = 0; b < probe.size(); ++b)
      for (std::size_t j = 0; j < probe[b].size(); ++j) probe[b][j] = ((j * 7919 + b) % 2) ? 1 : -1;
    m.lambda = ridge * Impl::Dot(probe, m.Normal(probe)) / Impl::Dot(probe, probe);
  }
  // Jacobi preconditioner: the diagonal of F^T F for one bank's tap j of filter k is about
  // 2 sum over its pixels of z_{i+j}^2 (each face flux enters two pixels' divergence).
  m.diag = m.Zeros();
  for (const Impl::Pair& pr : m.pairs) {
    const Image& u = *pr.u;
    const int w = u.width(), h = u.height();
    for (std::size_t b = 0; b < m.diag.size(); ++b) {
      const int size = model.banks[b].filters.size, r = size / 2, n = size * size;
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          double* dk = m.diag[b].data() + std::size_t(pr.sel[b][std::size_t(y) * w + x]) * n;
          for (int dy = -r, j = 0; dy <= r; ++dy)
            for (int dx = -r; dx <= r; ++dx, ++j) {
              const double v = u.at(0, std::clamp(x + dx, 0, w - 1), std::clamp(y + dy, 0, h - 1));
              dk[j] += 2 * v * v;
            }
        }
    }
  }
  for (auto& d : m.diag)
    for (double& v : d) v = 1.0 / (v + m.lambda + 1e-30);
  impl_ = std::move(impl);
}

void FluxPreconditioner::Apply(std::vector<std::vector<double>>& g) const { g = impl_->Solve(g); }

double FluxPreconditioner::samples() const { return impl_->samples; }

std::vector<std::vector<double>> FluxPreconditioner::LeastSquares() const {
  const Impl& m = *impl_;
  return m.Solve(
      m.ApplyFt([&](std::size_t i, const Model&) { return m.pairs[i].d.Copy(); }, m.model));
}

namespace {

int FitFlux(Model& model, const std::vector<Sequence>& data, const TrainOptions& o) {
  const FluxPreconditioner pre(model, data, o.ridge, o.cg_iterations);
  const std::vector<std::vector<double>> x = pre.LeastSquares();
  for (std::size_t b = 0; b < x.size(); ++b)
    for (std::size_t j = 0; j < x[b].size(); ++j) model.banks[b].filters.taps[j] = float(x[b][j]);
  return 0;
}

}  // namespace

DirectPreconditioner::DirectPreconditioner(const Model& model, const std::vector<Sequence>& data,
                                           double ridge)
    : DirectPreconditioner(
          [&] {
            if (model.form != ModelForm::kDirect)
              Fail("the curvature preconditioner is for direct models");
            return AccumulateDirect(model, data);
          }(),
          ridge) {}

DirectPreconditioner::DirectPreconditioner(const NormalEquations& ne, double ridge) {
  n_ = ne.taps;
  factors_.resize(ne.filters);
  ParallelFor(0, ne.filters, [&](int k) {
    // A filter no pixel selected has a = ridge floor only; keep it if it factors, else leave
    // it empty (its gradient is then passed through unscaled: it is zero anyway).
    auto f = std::make_shared<RidgeCholesky>(ne.a.data() + std::size_t(k) * n_ * n_, n_, ridge);
    if (f->ok()) factors_[k] = std::move(f);
  });
  for (long c : ne.count) samples_ += double(c);
}

void DirectPreconditioner::Apply(std::vector<double>& g) const {
  ParallelFor(0, int(factors_.size()), [&](int k) {
    if (!factors_[k]) return;
    double* gk = g.data() + std::size_t(k) * n_;
    factors_[k]->Solve(gk, gk);
  });
}

NormalEquations AccumulateNormalEquations(const Model& model, const std::vector<Sequence>& data) {
  if (model.form != ModelForm::kDirect)
    Fail("normal equations are summed for direct models (this is a ", FormName(model.form),
         " model)");
  for (const Sequence& s : data)
    if (s.size() < 2 || s[0].channels() != 1) Fail("training sequences must be gray, 2+ frames");
  return AccumulateDirect(model, data);
}

int SolveNormalEquations(Model& model, const NormalEquations& sums, const TrainOptions& o) {
  if (model.form != ModelForm::kDirect)
    Fail("normal equations are solved for direct models (this is a ", FormName(model.form),
         " model)");
  return SolveDirect(model, sums, o);
}

int FitLeastSquares(Model& model, const std::vector<Sequence>& data, const TrainOptions& o) {
  if (data.empty()) Fail("no training data");
  for (const Sequence& s : data)
    if (s.size() < 2 || s[0].channels() != 1) Fail("training sequences must be gray, 2+ frames");
  if (model.form == ModelForm::kDirect) return FitDirect(model, data, o);
  if (model.form == ModelForm::kFlux) return FitFlux(model, data, o);
  Fail("least squares for ", FormName(model.form), " models is not part of training");
}

}  // namespace blade
