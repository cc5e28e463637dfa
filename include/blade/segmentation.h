// Chan–Vese segmentation (paper §4.3), with the curvature term by a BLADE TV model or by the
// reference scheme, and comparing partitions.
#pragma once

#include <functional>

#include "blade/image.h"
#include "blade/model.h"

namespace blade {

// The length penalty mu of the reference scheme and with BLADE TV (the paper's values).
inline constexpr double kChanVeseMuReference = 0.2, kChanVeseMuBlade = 0.04;

// Chan–Vese parameters (REFERENCE_SCHEMES.md §5; IPOL defaults except where the paper differs).
struct ChanVeseParams {
  double mu = kChanVeseMuReference;  // length penalty (kChanVeseMuBlade with BLADE TV)
  double nu = 0;                     // area penalty
  double lambda1 = 1, lambda2 = 1;
  double dt = 0.5;
  int iterations = 300;  // the paper runs a fixed 300
  double tolerance = 0;  // stop early when the RMS change of phi <= tolerance (0: never)
  void Validate() const;
};

// The checkerboard initialisation phi0(m, n) = sin(pi m / 5) sin(pi n / 5).
Image ChanVeseInitialPhi(int width, int height);

// Reference Chan–Vese (gray) / Chan–Sandberg–Vese (color) segmentation, the IPOL semi-implicit
// Gauss–Seidel scheme; region averages per channel (with the IPOL multi-channel defect fixed).
// Returns the level set phi; the segmentation is phi >= 0.
Image ChanVeseReference(const Image& f, const ChanVeseParams& params,
                        const std::function<void(int, int)>& on_progress = {});

// Chan–Vese with the curvature term replaced by a BLADE TV model (eq. 4.10, color eq. 4.11):
// phi += dt delta(phi) [mu BLADE(phi) - nu - lambda1 |f - c1|^2 + lambda2 |f - c2|^2], with c1, c2
// recomputed every iteration. The model must be a direct or flux model (trained for TV flow).
Image ChanVeseBlade(const Image& f, const Model& tv_model, const ChanVeseParams& params,
                    const std::function<void(int, int)>& on_progress = {});

// The reference scheme takes no model: a model (or a model's parameters) given with it would be
// ignored, so it is refused.
void RequireNoModelForReference(bool reference, bool model_given);

// The length penalty a run uses when none is given: the reference scheme's or BLADE's.
inline double DefaultChanVeseMu(bool reference) {
  return reference ? kChanVeseMuReference : kChanVeseMuBlade;
}

// The partition phi >= 0 / phi < 0 as a 0/1 mask, white (1) on the region of f with the brighter
// mean luma. Which side a run leaves at phi >= 0 depends on the solver and the image (the energy
// is symmetric when lambda1 = lambda2), so without this rule the reference scheme and BLADE
// could return each other's complement. Equal means: white on the smaller region. A partition
// with one empty side is returned as phi says.
Image SegmentationMask(const Image& phi, const Image& f);
// The image (as RGB) with the mask's boundary pixels drawn in red.
Image SegmentationOverlay(const Image& f, const Image& mask);
// Fraction of pixels where two masks agree, and intersection over union of their foregrounds.
double MaskAgreement(const Image& a, const Image& b);
double MaskIou(const Image& a, const Image& b);
// With lambda1 = lambda2 and nu = 0 the Chan–Vese energy is symmetric in inside/outside, so two
// runs can find the same partition with swapped labels: compare partitions, flipping b if that
// agrees better. Returns the flipped-or-not b.
Image AlignLabels(const Image& a, const Image& b);

}  // namespace blade
