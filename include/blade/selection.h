// BLADE filter selection (paper §2.1): structure-tensor features, quantization, flattened filter
// index.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "blade/image.h"

namespace blade {

// Per-pixel structure-tensor features of an image.
// Gradient: central differences (u_{i+1} - u_{i-1}) / 2 with replicate borders (the zero-flux
// ghost cells the PDEs use). J = G_rho * [[ux^2, ux uy], [ux uy, uy^2]] (half-sample symmetric
// Gaussian, §0). With lambda1 >= lambda2 >= 0 its eigenvalues:
//   orientation = angle of the dominant eigenvector in [0, pi) = atan2(2 j12, j11 - j22) / 2,
//                 0 where J = 0 (x to the right, y down);
//   strength    = sqrt(lambda1);
//   coherence   = (sqrt(l1) - sqrt(l2)) / (sqrt(l1) + sqrt(l2)), 0 where l1 = l2 = 0.
// Color: J is computed on luma unless `joint_color`, which sums the three channels' tensors
// (paper footnote 2).
struct Features {
  Image orientation, strength, coherence;
};
Features ComputeFeatures(const Image& image, double rho, bool joint_color = false);

// How features become a filter index. Thresholds are ascending; a value v falls in bin
// (number of thresholds <= v). Index = ori + No (str + Ns (coh + Nc int)) (eq. 2.5 extended by
// the intensity bin, which quantizes the pixel value itself).
struct SelectionConfig {
  int orientations = 24, strengths = 3, coherences = 3, intensities = 1;
  double rho = 1.0;
  bool joint_color = false;
  std::vector<float> strength_thresholds;   // strengths - 1 values
  std::vector<float> coherence_thresholds;  // coherences - 1 values
  std::vector<float> intensity_thresholds;  // intensities - 1 values

  int num_filters() const { return orientations * strengths * coherences * intensities; }
  // Sets the bin counts from {orientations, strengths, coherences[, intensities]} (intensities
  // 1 when omitted) and clears the thresholds; fails on another count of values.
  void SetBins(const std::vector<int>& bins);
  // Fails unless bins are in range (orientations 1..64, others 1..16), thresholds are finite,
  // ascending and of the right count, and rho is positive.
  void Validate() const;
};

// The filter index of every pixel (row-major), computed from `image` (luma, or joint color).
std::vector<std::int32_t> Select(const SelectionConfig& config, const Image& image);

// Orientation bin of an angle in [0, pi): floor(theta / pi * n), clamped to n - 1.
int OrientationBin(float theta, int n);
// Bin of a value against ascending thresholds.
int ThresholdBin(float value, const std::vector<float>& thresholds);

// Equal-population thresholds: the (k / bins)-quantiles, k = 1..bins-1, of `values`.
std::vector<float> QuantileThresholds(std::vector<float> values, int bins);
// Fills the config's missing thresholds as equal-population quantiles of the features of
// `images` (the training data).
void FitThresholds(SelectionConfig& config, const std::vector<const Image*>& images);

}  // namespace blade
