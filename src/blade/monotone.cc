// The monotone constraint on a direct model's filters (docs/MONOTONE.md): the check every
// model file with constraint "monotone" passes when it is loaded.
#include "blade/monotone.h"

#include <cmath>
#include <string>

#include "blade/error.h"

namespace blade {

void CheckMonotone(const Model& model) {
  if (model.form != ModelForm::kDirect)
    Fail("the monotone constraint is defined for direct models");
  const FilterBank& f = model.banks.at(0).filters;
  const int n = f.size * f.size, centre = n / 2;
  for (int k = 0; k < f.count; ++k) {
    const float* h = f.filter(k);
    double sum = 0;
    for (int t = 0; t < n; ++t) {
      if (t == centre) continue;
      if (!(h[t] >= 0))
        Fail("monotone model: filter ", k, " has a negative off-centre tap (", h[t], ")");
      sum += h[t];
    }
    if (std::abs(h[centre] + sum) > 1e-6 * std::max(1.0, sum))
      Fail("monotone model: filter ", k, " centre tap ", h[centre], " is not minus the sum ", sum,
           " of the others");
    if (model.dt * sum > 1 + 1e-6)
      Fail("monotone model: filter ", k, " has dt * sum of off-centre taps = ", model.dt * sum,
           " > 1");
  }
}

}  // namespace blade
