// Training: threshold fitting, least squares, then unrolled fine-tuning (curvature-preconditioned
// newton steps or Adam) with early stopping, and the rollout loss they minimise.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <random>

#include "blade/error.h"
#include "blade/metrics.h"
#include "blade/monotone.h"
#include "blade/parallel.h"
#include "blade/train.h"

namespace blade {
namespace {

// One frame's training loss, (1 - w) MSE + w (1 - SSIM) (w = 0: eq. 2.8), times `scale`, and,
// when grad is given, its gradient with respect to u (with the same scale).
double FrameLoss(const Image& u, const Image& ref, double ssim_weight, double scale, Image* grad) {
  const std::size_t size = u.size();
  const float* a = u.data();
  const float* b = ref.data();
  // `omp simd` lets the sum be split across vector lanes (a fixed split for a given build,
  // whatever the thread count): one running sum would serialize the loop.
  double total = 0;
#pragma omp simd reduction(+ : total)
  for (std::size_t i = 0; i < size; ++i) {
    const double e = double(a[i]) - double(b[i]);
    total += e * e;
  }
  const double mse = total / double(size);
  if (ssim_weight > 0 && !std::isfinite(mse)) return mse;  // no SSIM of a diverged frame
  double ssim = 1;
  Image dssim;
  if (ssim_weight > 0) ssim = grad != nullptr ? SsimGradient(u, ref, &dssim) : Ssim(u, ref);
  if (grad != nullptr) {
    *grad = Image(u.width(), u.height(), u.channels());
    float* g = grad->data();
    const double mse_factor = (1 - ssim_weight) * 2 * scale / double(size);
    if (ssim_weight > 0) {
      const float* ds = dssim.data();
      const double ssim_factor = ssim_weight * scale;
      for (std::size_t k = 0; k < size; ++k)
        g[k] = float(mse_factor * (double(a[k]) - double(b[k])) - ssim_factor * double(ds[k]));
    } else {
      for (std::size_t k = 0; k < size; ++k)
        g[k] = float(mse_factor * (double(a[k]) - double(b[k])));
    }
  }
  return scale * ((1 - ssim_weight) * mse + ssim_weight * (1 - ssim));
}

using Objective = RolloutObjective;

// The mean squared excess of u beyond [lo, hi], times `scale`, and its gradient when asked.
double RangeExcess(const Image& u, float lo, float hi, double scale, Image* grad) {
  const std::size_t size = u.size();
  const float* a = u.data();
  if (grad != nullptr) *grad = Image(u.width(), u.height(), u.channels());
  float* g = grad != nullptr ? grad->data() : nullptr;
  double total = 0;
  for (std::size_t i = 0; i < size; ++i) {
    const double e = std::max(0.0, double(a[i]) - hi) - std::max(0.0, lo - double(a[i]));
    total += e * e;
    if (g != nullptr) g[i] = float(2 * scale * e / double(size));
  }
  if (!std::isfinite(total)) return INFINITY;
  return scale * total / double(size);
}

// One sequence's loss given its rollout's states (and per frame its gradient when asked).
double SequenceLoss(const std::vector<Image>& states, const Sequence& seq, const Objective& obj,
                    std::vector<Image>* grads) {
  const int steps = int(seq.size()) - 1;
  const int total = int(states.size()) - 1;
  double loss = 0;
  for (int k = 1; k <= total && std::isfinite(loss); ++k) {
    Image d, e;
    if (k <= steps)
      loss += FrameLoss(states[k], seq[k], obj.ssim_weight, 1.0 / steps,
                        grads != nullptr ? &d : nullptr);
    if (obj.stability_weight > 0) {
      loss += RangeExcess(states[k], obj.lo, obj.hi, obj.stability_weight / total,
                          grads != nullptr ? &e : nullptr);
      if (grads != nullptr) {
        if (d.empty())
          d = std::move(e);
        else
          Axpy(1.f, e, d);
      }
    }
    if (grads != nullptr) grads->push_back(std::move(d));
  }
  return std::isfinite(loss) ? loss : INFINITY;
}

struct SampleGradient {
  double loss = 0;
  bool finite = true;
  std::vector<std::vector<double>> dtaps;
};

SampleGradient RolloutGradient(const Model& model, const Sequence& seq, const Objective& obj) {
  SampleGradient g;
  Rollout r(model, seq[0], obj.Steps(int(seq.size()) - 1), model.dt, obj.integrator);
  std::vector<Image> grads;
  g.loss = SequenceLoss(r.states(), seq, obj, &grads);
  if (!std::isfinite(g.loss)) {
    g.finite = false;
    return g;
  }
  r.Backward(grads, g.dtaps);
  for (const auto& bank : g.dtaps)
    for (double v : bank)
      if (!std::isfinite(v)) g.finite = false;
  return g;
}

// Bookkeeping shared by the optimisers: curves, progress, best model, early stopping.
struct FineTuning {
  const TrainOptions& o;
  const Objective& obj;
  const std::vector<Sequence>& val;
  TrainReport& rep;
  Model& best;
  double& best_val;
  std::function<void(const std::string&)> status;
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  int since_best = 0;
  int first_epoch = 1;   // > 1 when resuming from a checkpoint
  std::string settings;  // TrainingSettings and the image counts, recorded with each checkpoint

  // Records an epoch; true when training should stop (patience exhausted).
  bool EndEpoch(int epoch, const Model& model, double train_loss) {
    const double val_loss = val.empty() ? train_loss : RolloutLoss(model, val, obj);
    rep.train_curve.push_back(train_loss);
    rep.validation_curve.push_back(val_loss);
    rep.epochs_run = epoch;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (o.on_epoch) o.on_epoch(epoch, o.epochs, train_loss, val_loss, elapsed);
    if (val_loss < best_val) {
      best_val = val_loss;
      best = model;
      rep.best_epoch = epoch;
      since_best = 0;
    } else if (++since_best >= o.patience) {
      SaveCheckpoint(epoch, model, /*stopped=*/true);
      status(StrCat("early stop after epoch ", epoch, " (best epoch ", rep.best_epoch, ")"));
      return true;
    }
    SaveCheckpoint(epoch, model, /*stopped=*/false);
    return false;
  }

  // Calls on_checkpoint with where the run stands after `epoch`.
  void SaveCheckpoint(int epoch, const Model& model, bool stopped) const {
    if (!o.on_checkpoint) return;
    const TrainingState state{epoch,   rep.best_epoch,    since_best,
                              stopped, rep.ls_train_loss, rep.ls_validation_loss,
                              settings};
    o.on_checkpoint(state, model, best);
  }
};

// Minibatch Adam on random crops (and flips/rotations) of the training sequences.
void FineTuneAdam(Model& model, const std::vector<Sequence>& train, std::mt19937_64& rng,
                  FineTuning& ft) {
  const TrainOptions& o = ft.o;
  // Adam state over all taps of all banks.
  std::vector<std::vector<double>> m1(model.banks.size()), m2(model.banks.size());
  for (std::size_t b = 0; b < model.banks.size(); ++b) {
    m1[b].assign(model.banks[b].filters.taps.size(), 0.0);
    m2[b].assign(model.banks[b].filters.taps.size(), 0.0);
  }
  const double beta1 = 0.9, beta2 = 0.999, adam_eps = 1e-12;
  long adam_t = 0;
  for (int epoch = ft.first_epoch; epoch <= o.epochs; ++epoch) {
    CheckInterrupt();
    std::vector<std::size_t> idx(train.size());
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    std::shuffle(idx.begin(), idx.end(), rng);
    double epoch_loss = 0;
    int counted = 0;
    for (std::size_t start = 0; start < idx.size(); start += o.batch) {
      const int nb = int(std::min<std::size_t>(o.batch, idx.size() - start));
      // Draw every random choice up front, in order, so threads never touch the generator.
      std::vector<int> transform(nb), cx(nb), cy(nb);
      for (int j = 0; j < nb; ++j) {
        const Image& f0 = train[idx[start + j]][0];
        transform[j] = int(rng() % 8);
        if (!o.augment) transform[j] = 0;
        cx[j] = o.crop > 0 && f0.width() > o.crop ? int(rng() % (f0.width() - o.crop + 1)) : 0;
        cy[j] = o.crop > 0 && f0.height() > o.crop ? int(rng() % (f0.height() - o.crop + 1)) : 0;
      }
      std::vector<SampleGradient> grads(nb);
      ParallelFor(0, nb, [&](int j) {
        const Sequence& full = train[idx[start + j]];
        Sequence seq;
        for (const Image& f : full) {
          const int cw = o.crop > 0 ? std::min(o.crop, f.width()) : f.width();
          const int ch = o.crop > 0 ? std::min(o.crop, f.height()) : f.height();
          seq.push_back(Dihedral(Crop(f, {cx[j], cy[j], cw, ch}), transform[j]));
        }
        grads[j] = RolloutGradient(model, seq, ft.obj);
      });
      std::vector<std::vector<double>> g(model.banks.size());
      for (std::size_t b = 0; b < g.size(); ++b) g[b].assign(m1[b].size(), 0.0);
      int used = 0;
      for (const SampleGradient& sg : grads) {
        if (!sg.finite) continue;  // a diverged crop carries no usable gradient
        ++used;
        epoch_loss += sg.loss;
        ++counted;
        for (std::size_t b = 0; b < g.size(); ++b)
          for (std::size_t i = 0; i < g[b].size(); ++i) g[b][i] += sg.dtaps[b][i];
      }
      if (used == 0) continue;
      ++adam_t;
      const double c1 = 1 - std::pow(beta1, double(adam_t)),
                   c2 = 1 - std::pow(beta2, double(adam_t));
      const double rate =
          o.learning_rate * std::min(1.0, double(adam_t) / double(std::max(1, o.warmup_steps)));
      for (std::size_t b = 0; b < g.size(); ++b)
        for (std::size_t i = 0; i < g[b].size(); ++i) {
          const double gi = g[b][i] / used;
          m1[b][i] = beta1 * m1[b][i] + (1 - beta1) * gi;
          m2[b][i] = beta2 * m2[b][i] + (1 - beta2) * gi * gi;
          model.banks[b].filters.taps[i] -=
              float(rate * (m1[b][i] / c1) / (std::sqrt(m2[b][i] / c2) + adam_eps));
        }
      if (o.constraint == Constraint::kMonotone) ProjectMonotone(model);  // projected gradient step
    }
    const double train_loss =
        counted > 0 ? epoch_loss / counted : std::numeric_limits<double>::infinity();
    if (ft.EndEpoch(epoch, model, train_loss)) break;
  }
}

// Full-batch gradient of the mean rollout loss over `data`, summed in sequence order
// (deterministic for any thread count). Returns the loss (infinity if any rollout diverged).
double FullGradient(const Model& model, const std::vector<Sequence>& data, const Objective& obj,
                    std::vector<std::vector<double>>& g) {
  std::vector<SampleGradient> grads(data.size());
  ParallelFor(0, int(data.size()), [&](int s) { grads[s] = RolloutGradient(model, data[s], obj); });
  g.assign(model.banks.size(), {});
  for (std::size_t b = 0; b < g.size(); ++b) g[b].assign(model.banks[b].filters.taps.size(), 0.0);
  double loss = 0;
  for (const SampleGradient& sg : grads) {
    if (!sg.finite) return std::numeric_limits<double>::infinity();
    loss += sg.loss / data.size();
    for (std::size_t b = 0; b < g.size(); ++b)
      for (std::size_t i = 0; i < g[b].size(); ++i) g[b][i] += sg.dtaps[b][i] / data.size();
  }
  return loss;
}

// A direct model's per-bank gradient in the per-filter layout of its normal equations (filter
// k's taps of bank 0, then of bank 1 with a scheme term), and a step in that layout added back.
std::vector<double> JoinFilters(const Model& model, const std::vector<std::vector<double>>& g) {
  std::vector<double> out;
  for (int k = 0; k < model.banks[0].filters.count; ++k)
    for (std::size_t b = 0; b < model.banks.size(); ++b) {
      const std::size_t n = model.banks[b].filters.taps_per_filter();
      out.insert(out.end(), g[b].begin() + k * n, g[b].begin() + (k + 1) * n);
    }
  return out;
}
void AddJoined(Model& model, const std::vector<double>& step, double rate) {
  std::size_t i = 0;
  for (int k = 0; k < model.banks[0].filters.count; ++k)
    for (Bank& b : model.banks) {
      float* f = b.filters.filter(k);
      for (int j = 0; j < b.filters.taps_per_filter(); ++j) f[j] += float(rate * step[i++]);
    }
}

// The newton optimiser's unknowns as one vector: a direct model's in the per-filter layout of
// its normal equations (JoinFilters), a flux model's bank after bank; and a step added back.
std::vector<double> Flatten(const Model& model, const std::vector<std::vector<double>>& g) {
  if (model.form == ModelForm::kDirect) return JoinFilters(model, g);
  std::vector<double> out;
  for (const auto& bank : g) out.insert(out.end(), bank.begin(), bank.end());
  return out;
}
void AddFlat(Model& model, const std::vector<double>& step, double rate) {
  if (model.form == ModelForm::kDirect) return AddJoined(model, step, rate);
  std::size_t i = 0;
  for (Bank& b : model.banks)
    for (float& t : b.filters.taps) t += float(rate * step[i++]);
}

// Full-batch Gauss-Newton-like steps: the gradient preconditioned by the one-step curvature.
// The loss is a mean over S = (pixels x steps x sequences) squared errors and one Euler step
// moves u by dt p.x, so its Hessian is about 2 dt^2 N / S; the step -S/(2 dt^2) N^-1 g is then a
// Newton step, shortened by halving until the training loss falls (the rate scales it).
void FineTuneNewton(Model& model, const std::vector<Sequence>& data, const NormalEquations* sums,
                    FineTuning& ft) {
  const TrainOptions& o = ft.o;
  ft.status("curvature preconditioner");
  // Direct form: the per-filter normal matrices, factored. Flux form: the joint normal operator,
  // inverted approximately by conjugate gradients at every application.
  std::optional<DirectPreconditioner> direct;
  std::optional<FluxPreconditioner> flux;
  if (model.form == ModelForm::kDirect)
    direct.emplace(sums != nullptr ? DirectPreconditioner(*sums, o.ridge)
                                   : DirectPreconditioner(model, data, o.ridge));
  else
    flux.emplace(model, data, o.ridge, o.cg_iterations);
  const auto precondition = [&](std::vector<double>& g) {
    if (direct) return direct->Apply(g);
    std::vector<std::vector<double>> per_bank(model.banks.size());
    std::size_t i = 0;
    for (std::size_t b = 0; b < per_bank.size(); ++b) {
      const std::size_t n = model.banks[b].filters.taps.size();
      per_bank[b].assign(g.begin() + i, g.begin() + i + n);
      i += n;
    }
    flux->Apply(per_bank);
    g = Flatten(model, per_bank);
  };
  const double samples = direct ? direct->samples() : flux->samples();
  const double scale = samples / (2 * model.dt * model.dt);
  std::vector<std::vector<double>> per_bank;
  double loss = FullGradient(model, data, ft.obj, per_bank);
  std::vector<double> g = Flatten(model, per_bank);
  double rate = std::min(1.0, o.learning_rate);
  // Preconditioned nonlinear conjugate gradients (Polak-Ribiere+): the direction adds beta
  // times the previous one, which speeds up the slow directions the one-step curvature misses.
  std::vector<double> dir, prev_g, prev_pg;
  for (int epoch = ft.first_epoch; epoch <= o.epochs; ++epoch) {
    CheckInterrupt();
    std::vector<double> pg = g;
    precondition(pg);
    double beta = 0;
    if (!prev_g.empty()) {
      double num = 0, den = 0;
      for (std::size_t i = 0; i < pg.size(); ++i) {
        num += pg[i] * (g[i] - prev_g[i]);
        den += prev_pg[i] * prev_g[i];
      }
      beta = den > 0 ? std::max(0.0, num / den) : 0.0;
    }
    dir.resize(pg.size(), 0.0);
    double slope = 0;
    for (std::size_t i = 0; i < pg.size(); ++i) {
      dir[i] = -scale * pg[i] + beta * dir[i];
      slope += dir[i] * g[i];
    }
    if (!(slope < 0)) {  // not a descent direction: restart from the preconditioned gradient
      slope = 0;
      for (std::size_t i = 0; i < pg.size(); ++i) {
        dir[i] = -scale * pg[i];
        slope += dir[i] * g[i];
      }
    }
    // The preconditioner is the squared error's curvature: with an SSIM term the step it gives
    // is far too long (tv, 20 photographs: a slope of -1458 at a loss of 0.0038, where 12
    // halvings of the rate never reached a lower loss and training stopped at the least-squares
    // model). A loss >= 0 cannot fall by more than itself, so the search starts where the
    // slope predicts at most that.
    if (o.ssim_weight > 0 && slope < 0) rate = std::min(rate, loss / -slope);
    bool improved = false;
    for (int tries = 0; tries < 12 && !improved; ++tries, rate /= 2) {
      Model trial = model;
      AddFlat(trial, dir, rate);
      if (o.constraint == Constraint::kMonotone) ProjectMonotone(trial);  // projected step
      const double trial_loss = RolloutLoss(trial, data, ft.obj);
      if (trial_loss < loss) {
        model = std::move(trial);
        improved = true;
      }
    }
    if (!improved) {
      // The run ends here: the last checkpoint (epoch - 1's, when there was one) says so.
      if (epoch - 1 >= 1) ft.SaveCheckpoint(epoch - 1, model, /*stopped=*/true);
      ft.status(StrCat("no step lowers the training loss after epoch ", epoch - 1, "; stopping"));
      break;
    }
    // The accepted step becomes the direction's scale for the conjugate update.
    for (double& d : dir) d *= rate * 2;
    rate = std::min(1.0, rate * 4);  // undo the last halving and try a longer step next time
    prev_g = g;
    prev_pg = std::move(pg);
    loss = FullGradient(model, data, ft.obj, per_bank);
    g = Flatten(model, per_bank);
    if (ft.EndEpoch(epoch, model, loss)) break;
  }
}

}  // namespace

int RolloutObjective::Steps(int reference_steps) const {
  return stability_weight > 0 ? std::max(reference_steps, stability_rollout) : reference_steps;
}

bool RolloutLossGradientSum(const Model& model, const std::vector<Sequence>& data,
                            Integrator integrator, double* loss_sum,
                            std::vector<std::vector<double>>* gradient_sum, double ssim_weight) {
  return RolloutLossGradientSum(model, data, RolloutObjective{integrator, ssim_weight}, loss_sum,
                                gradient_sum);
}

bool RolloutLossGradientSum(const Model& model, const std::vector<Sequence>& data,
                            const RolloutObjective& obj, double* loss_sum,
                            std::vector<std::vector<double>>* gradient_sum) {
  std::vector<SampleGradient> grads(data.size());
  ParallelFor(0, int(data.size()), [&](int s) { grads[s] = RolloutGradient(model, data[s], obj); });
  gradient_sum->assign(model.banks.size(), {});
  for (std::size_t b = 0; b < model.banks.size(); ++b)
    (*gradient_sum)[b].assign(model.banks[b].filters.taps.size(), 0.0);
  *loss_sum = 0;
  for (const SampleGradient& sg : grads) {  // in sequence order: deterministic
    if (!sg.finite) return false;
    *loss_sum += sg.loss;
    for (std::size_t b = 0; b < gradient_sum->size(); ++b)
      for (std::size_t i = 0; i < (*gradient_sum)[b].size(); ++i)
        (*gradient_sum)[b][i] += sg.dtaps[b][i];
  }
  return true;
}

double RolloutLoss(const Model& model, const std::vector<Sequence>& data, Integrator integrator,
                   double ssim_weight) {
  return RolloutLoss(model, data, Objective{integrator, ssim_weight});
}

double RolloutLoss(const Model& model, const std::vector<Sequence>& data,
                   const RolloutObjective& obj) {
  if (data.empty()) return 0;
  std::vector<double> losses(data.size());
  ParallelFor(0, int(data.size()), [&](int s) {
    const Sequence& seq = data[s];
    Rollout r(model, seq[0], obj.Steps(int(seq.size()) - 1), model.dt, obj.integrator);
    losses[s] = SequenceLoss(r.states(), seq, obj, nullptr);
  });
  double total = 0;
  for (double l : losses) total += l;
  return total / double(data.size());
}

void TrainOptions::Validate() const {
  if (epochs < 0) Fail("the epochs must be >= 0 (got ", epochs, ")");
  if (batch < 1) Fail("the batch must be >= 1 sequences (got ", batch, ")");
  if (crop < 0) Fail("the crop must be >= 0 pixels, 0 = whole frames (got ", crop, ")");
  if (!(learning_rate > 0) || !std::isfinite(learning_rate))
    Fail("the learning rate must be a finite number > 0 (got ", learning_rate, ")");
  if (patience < 1) Fail("the patience must be >= 1 epochs (got ", patience, ")");
  if (warmup_steps < 0) Fail("the warm-up must be >= 0 steps (got ", warmup_steps, ")");
  if (!(validation_fraction >= 0 && validation_fraction < 1))
    Fail("the validation fraction must lie in [0, 1) (got ", validation_fraction, ")");
  if (!(ridge >= 0) || !std::isfinite(ridge))
    Fail("the ridge must be a finite number >= 0 (got ", ridge, ")");
  if (form == ModelForm::kResample) Fail("use the resampling trainer for resampling models");
  if (!(ssim_weight >= 0 && ssim_weight <= 1))
    Fail("the SSIM weight of the loss must lie in [0, 1] (got ", ssim_weight, ")");
  if (ssim_weight > 0 && crop > 0 && crop < 11)
    Fail("an SSIM loss needs crops of at least 11 pixels (got ", crop, ")");
  if (constraint == Constraint::kMonotone && form != ModelForm::kDirect)
    Fail("the monotone constraint applies to direct models");
  if (footprint < 3 || footprint > 9 || footprint % 2 == 0)
    Fail("the filter footprint must be odd, 3..9 (got ", footprint, ")");
  if (scheme_footprint != 0 &&
      (scheme_footprint < 3 || scheme_footprint > 9 || scheme_footprint % 2 == 0))
    Fail("the scheme term's footprint must be 0 (none) or odd, 3..9 (got ", scheme_footprint, ")");
  if (scheme_footprint > 0 && form != ModelForm::kDirect)
    Fail("a scheme term applies to direct models");
  if (scheme_footprint > 0 && constraint == Constraint::kMonotone)
    Fail(
        "a monotone model cannot have a scheme term (--scheme-footprint 0; the recipe leaves it "
        "out for --constraint monotone)");
  if (cg_iterations < 1) Fail("the CG iterations must be positive (got ", cg_iterations, ")");
  if (stability_steps < 0 || stability_steps > 1000000)
    Fail("the stability steps must be 0..1000000 (got ", stability_steps, ")");
  RequireNonNegative(stability_margin, "the stability margin");
  RequireNonNegative(stability_weight, "the stability term's weight");
  if (stability_rollout < 0 || stability_rollout > 100000)
    Fail("the stability term's rollout must be 0..100000 steps (got ", stability_rollout, ")");
  // The bin counts and rho now; the thresholds may still be fitted from the data (placeholders
  // only for counts in range, so a huge count fails in Validate instead of allocating).
  SelectionConfig probe = selection;
  auto placeholder = [](std::vector<float>& t, int bins) {
    if (t.empty() && bins >= 1 && bins <= 16) t.assign(bins - 1, 0.f);
  };
  placeholder(probe.strength_thresholds, probe.strengths);
  placeholder(probe.coherence_thresholds, probe.coherences);
  placeholder(probe.intensity_thresholds, probe.intensities);
  probe.Validate();
}

void TrainOptions::ValidateFor(Pde pde) const {
  Validate();
  // The loss shapes only the fine-tuning; without epochs (Perona-Malik's recipe fits by least
  // squares alone) an SSIM loss would change nothing but the model's label.
  if (ssim_weight > 0 && epochs == 0)
    Fail("a loss with SSIM acts in the fine-tuning epochs, and there are none (the ", PdeName(pde),
         " recipe fits by least squares alone): give --epochs N (Python: epochs=N)");
  if (scheme_footprint > 0 && !HasClassicalRhs(pde))
    Fail("a scheme term needs a PDE with an explicit right-hand side (tv, pm, ch), not ",
         PdeName(pde), " (use --scheme-footprint 0)");
}

std::string OptimizerName(Optimizer optimizer) {
  return optimizer == Optimizer::kAdam ? "adam" : "newton";
}

Optimizer ParseOptimizer(const std::string& name) {
  if (name == "adam") return Optimizer::kAdam;
  if (name == "newton") return Optimizer::kNewton;
  Fail("unknown optimiser '", name, "' (expected adam or newton)");
}

void RequireSameSettings(const std::string& checkpoint, const std::string& now) {
  if (checkpoint.empty() || checkpoint == now) return;  // empty: a checkpoint before this check
  auto split = [](const std::string& s) {
    std::map<std::string, std::string> m;
    std::size_t at = 0;
    while (at < s.size()) {
      std::size_t end = s.find(';', at);
      if (end == std::string::npos) end = s.size();
      const std::string item = s.substr(at, end - at);
      const std::size_t eq = item.find('=');
      m[item.substr(0, eq)] = eq == std::string::npos ? "" : item.substr(eq + 1);
      at = end + 1;
    }
    return m;
  };
  const auto then = split(checkpoint), here = split(now);
  for (const auto& [name, value] : here) {
    const auto it = then.find(name);
    const std::string was = it == then.end() ? "(not recorded)" : it->second;
    if (was != value)
      Fail("resuming needs the checkpoint's settings: its run had ", name, " ", was,
           ", this one has ", value);
  }
}

std::string TrainingSettings(const TrainOptions& o, const Preset& preset) {
  const SelectionConfig& s = o.selection;
  return StrCat(
      "preset=", preset.name, ";time=", RoundTripDecimal(preset.time), ";steps=", preset.frames,
      ";form=", FormName(o.form), ";integrator=", IntegratorName(o.integrator),
      ";footprint=", o.footprint, ";scheme-footprint=", o.scheme_footprint,
      ";bins=", s.orientations, "x", s.strengths, "x", s.coherences, "x", s.intensities,
      ";rho=", o.selection_rho_follows_point ? "the preset's" : RoundTripDecimal(s.rho),
      ";optimizer=", OptimizerName(o.optimizer),
      ";learning-rate=", RoundTripDecimal(o.learning_rate), ";batch=", o.batch, ";crop=", o.crop,
      ";augment=", o.augment ? "yes" : "no", ";augment-ls=", o.augment_least_squares ? "yes" : "no",
      ";patience=", o.patience, ";validation=", RoundTripDecimal(o.validation_fraction),
      ";ridge=", RoundTripDecimal(o.ridge), ";ssim-weight=", RoundTripDecimal(o.ssim_weight),
      ";stability-weight=", RoundTripDecimal(o.stability_weight),
      ";stability-rollout=", o.stability_rollout, ";constraint=", ConstraintName(o.constraint),
      ";zero-sum=", o.zero_sum ? "yes" : "no", ";seed=", o.seed);
}

Model TrainModel(const Preset& preset, const std::vector<Sequence>& data, const TrainOptions& o,
                 TrainReport* report) {
  o.ValidateFor(preset.pde);
  if (data.size() < 2) Fail("training needs at least 2 images (got ", data.size(), ")");
  for (std::size_t i = 0; i < data.size(); ++i) {
    const Image& f = data[i].at(0);
    if (f.width() < kMinTrainingSide || f.height() < kMinTrainingSide)
      Fail("training image ", i + 1, " is ", f.width(), "x", f.height(),
           " pixels on the model's grid; training needs at least ", kMinTrainingSide, "x",
           kMinTrainingSide, " (photographs ", preset.scale,
           " times larger: the preset's reference runs on a grid that much finer)");
  }
  if (o.stability_weight > 0 && o.stability_rollout < int(data[0].size()) - 1)
    Fail("the stability term's rollout (", o.stability_rollout,
         " steps) must be at least as long as the training sequences (", int(data[0].size()) - 1,
         ")");
  auto status = [&](const std::string& s) {
    if (o.on_status) o.on_status(s);
  };
  TrainReport local;
  TrainReport& rep = report ? *report : local;
  std::mt19937_64 rng(o.seed);

  // Validation split: a seeded shuffle of whole images.
  std::vector<std::size_t> order(data.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  std::size_t n_val = std::size_t(std::ceil(o.validation_fraction * data.size()));
  n_val = std::min(n_val, data.size() - 1);
  std::vector<Sequence> val, train;
  for (std::size_t i = 0; i < order.size(); ++i) {
    Sequence copy;
    for (const Image& im : data[order[i]]) copy.push_back(im.Copy());
    (i < n_val ? val : train).push_back(std::move(copy));
  }
  const std::string settings =
      StrCat(TrainingSettings(o, preset), ";training-images=", train.size(),
             ";validation-images=", val.size());
  if (o.resume_from != nullptr) RequireSameSettings(o.resume_state.settings, settings);

  // Selection thresholds from the training frames the model will see.
  SelectionConfig cfg = o.selection;
  cfg.rho = o.selection_rho_follows_point ? preset.selection_rho : o.selection.rho;
  {
    std::vector<const Image*> frames;
    for (const Sequence& s : train)
      for (std::size_t k = 0; k + 1 < s.size(); ++k) frames.push_back(&s[k]);
    if (o.resume_from == nullptr) FitThresholds(cfg, frames);
  }
  if (o.resume_from != nullptr) {
    // The checkpoint must be this training's model: same form, footprint and PDE preset.
    const Model& r = *o.resume_from;
    r.Validate();
    if (r.form != o.form || r.scheme_term != (o.scheme_footprint > 0) ||
        r.banks[0].filters.size != o.footprint || r.preset != preset.name ||
        r.banks[0].selection.num_filters() != cfg.num_filters())
      Fail("the checkpoint is a ", FormName(r.form), " ", r.banks[0].filters.size, "x",
           r.banks[0].filters.size, " model of preset '", r.preset, "' with ",
           r.banks[0].selection.num_filters(), " filters; this training makes a ", FormName(o.form),
           " ", o.footprint, "x", o.footprint, " model of '", preset.name, "' with ",
           cfg.num_filters(), " filters");
    cfg = r.banks[0].selection;
  }
  Model model = MakeEmptyModel(o.form, cfg, o.footprint, o.scheme_footprint);
  model.dt = preset.dt();
  model.steps = preset.frames;
  model.integrator = o.integrator;
  model.pde = PdeName(preset.pde);
  model.preset = preset.name;
  model.pde_params = preset.params.ToMap(preset.pde);

  status("least squares on " + std::to_string(train.size()) + " training images");
  // The least-squares fit (and the full-batch Newton fine-tuning) see all 8 flips/rotations of
  // every training sequence when asked to.
  std::vector<Sequence> augmented;
  if (o.augment_least_squares)
    for (const Sequence& seq : train)
      for (int t = 0; t < 8; ++t) {
        Sequence copy;
        for (const Image& im : seq) copy.push_back(Dihedral(im, t));
        augmented.push_back(std::move(copy));
      }
  const std::vector<Sequence>& fit_data = o.augment_least_squares ? augmented : train;
  NormalEquations sums;  // direct form: the least-squares sums, reused by the newton optimiser
  if (o.resume_from != nullptr) {
    for (std::size_t b = 0; b < model.banks.size(); ++b) model.banks[b] = o.resume_from->banks[b];
    model.constraint = o.resume_from->constraint;
    status(StrCat("resuming after epoch ", o.resume_state.epoch, " from the checkpoint"));
  } else if (o.form == ModelForm::kDirect) {
    sums = AccumulateNormalEquations(model, fit_data);
    // Constrained least squares (non-negative off-centre taps, dt * their sum <= 1) or plain.
    rep.fallback_filters = o.constraint == Constraint::kMonotone
                               ? SolveMonotoneLeastSquares(model, sums, o.ridge)
                               : SolveNormalEquations(model, sums, o);
  } else {
    rep.fallback_filters = FitLeastSquares(model, fit_data, o);
  }
  // The range the stability horizon is measured against (and the stability term penalises
  // leaving): the training frames' values widened by the margin on both sides.
  float lo = INFINITY, hi = -INFINITY;
  for (const Sequence& seq : train)
    for (const Image& f : seq) {
      lo = std::min(lo, MinValue(f));
      hi = std::max(hi, MaxValue(f));
    }
  const float pad = float(o.stability_margin * (hi - lo));
  lo -= pad;
  hi += pad;
  const Objective obj{o.integrator, o.ssim_weight, o.stability_weight, o.stability_rollout, lo, hi};
  Model best = model;
  double best_val;
  if (o.resume_from == nullptr) {
    rep.ls_train_loss = RolloutLoss(model, train, obj);
    rep.ls_validation_loss = val.empty() ? rep.ls_train_loss : RolloutLoss(model, val, obj);
    status(StrCat("least squares: train loss ", rep.ls_train_loss, ", validation loss ",
                  rep.ls_validation_loss, ", ", rep.fallback_filters, " fallback filters"));
    best_val = rep.ls_validation_loss;
    rep.best_epoch = 0;
  } else {
    // The least-squares losses are the original run's (NaN from checkpoints that predate
    // them); the best so far is the checkpoint's best, at its epoch.
    const TrainingState& t = o.resume_state;
    rep.ls_train_loss = t.ls_train_loss;
    rep.ls_validation_loss = t.ls_validation_loss;
    if (o.resume_best != nullptr)
      for (std::size_t b = 0; b < best.banks.size(); ++b)
        best.banks[b] = o.resume_best->banks.at(b);
    best_val = RolloutLoss(best, val.empty() ? train : val, obj);
    rep.best_epoch = t.best_epoch;
  }
  FineTuning ft{o, obj, val, rep, best, best_val, status};
  ft.settings = settings;
  if (o.resume_from != nullptr) {
    ft.first_epoch = o.resume_state.epoch + 1;
    ft.since_best = o.resume_state.since_best;
  }
  if (o.optimizer == Optimizer::kNewton)
    FineTuneNewton(model, fit_data, sums.filters > 0 ? &sums : nullptr, ft);
  else
    FineTuneAdam(model, train, rng, ft);
  // A selection blind to the level makes the PDE's invariance under adding a constant exact
  // with zero-sum filters (blade/model.h); the projection moved kodak4x by at most 0.02 dB.
  if (o.zero_sum && CommutesWithAddingConstant(preset.pde) && SelectionIgnoresLevel(best)) {
    ProjectFiltersToZeroSum(best);
    best_val = RolloutLoss(best, val.empty() ? train : val, obj);
  }
  if (o.stability_steps > 0) {
    std::vector<const Image*> starts;
    for (const Sequence& seq : val.empty() ? train : val) starts.push_back(&seq[0]);
    status(StrCat("measuring the stability horizon (up to ", o.stability_steps, " steps)"));
    const Stability st = MeasureStability(best, starts, o.stability_steps, lo, hi);
    best.safe_steps = st.safe_steps;
    best.safe_range[0] = lo;
    best.safe_range[1] = hi;
    rep.safe_steps = st.safe_steps;
    status(StrCat("stable for ", st.safe_steps, " steps within [", lo, ", ", hi, "]"));
  }
  rep.validation_loss = best_val;
  rep.train_loss = RolloutLoss(best, train, obj);
  best.provenance["train_images"] = std::to_string(train.size());
  best.provenance["validation_images"] = std::to_string(val.size());
  const std::string loss_name = o.ssim_weight > 0 || o.stability_weight > 0 ? "loss" : "mse";
  if (std::isfinite(rep.ls_validation_loss))  // unknown when resumed from an old checkpoint
    best.provenance["ls_validation_" + loss_name] = StrCat(rep.ls_validation_loss);
  best.provenance["validation_" + loss_name] = StrCat(best_val);
  best.provenance["train_" + loss_name] = StrCat(rep.train_loss);
  best.provenance["epochs"] = rep.best_epoch >= 0
                                  ? StrCat(rep.epochs_run, " (best ", rep.best_epoch, ")")
                                  : StrCat(rep.epochs_run, " (best: the resumed checkpoint's)");
  const std::string unrolled = StrCat(" over ", best.steps, " unrolled steps");
  best.provenance["loss"] = o.ssim_weight == 0 ? "eq. 2.8: mean squared error" + unrolled
                            : o.ssim_weight == 1
                                ? "1 - SSIM" + unrolled
                                : StrCat(1 - o.ssim_weight, " x mean squared error + ",
                                         o.ssim_weight, " x (1 - SSIM)", unrolled);
  if (o.stability_weight > 0)
    best.provenance["loss"] += StrCat(
        ", + ", o.stability_weight,
        " x mean squared excess beyond the stability range over steps 1..", obj.Steps(best.steps));
  // Fine-tuning that never lowered the validation loss leaves the least-squares model: say so
  // rather than label the model with a loss it was not shaped by.
  if (rep.best_epoch == 0 && o.epochs > 0) {
    best.provenance["loss"] +=
        "; no fine-tuning epoch lowered the validation loss, so this is "
        "the least-squares start (one-step squared error)";
    status(
        "no fine-tuning epoch lowered the validation loss: the model is the least-squares start");
  }
  best.provenance["seed"] = std::to_string(o.seed);
  return best;
}

}  // namespace blade
