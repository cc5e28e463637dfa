// Which models each application takes: the PDEs it was validated with (docs/RESULTS.md).
#include <algorithm>
#include <string>
#include <vector>

#include "blade/apps.h"
#include "blade/error.h"

namespace blade {
namespace {

struct Need {
  const char* command;
  std::vector<std::string> pdes;
  const char* why;
};

Need NeedOf(Application app) {
  switch (app) {
    case Application::kSegment:
      return {"segment", {"tv"}, "Chan-Vese's curvature term is TV flow's right side"};
    case Application::kRestore:
      return {"restore", {"tv", "pm", "ced"}, "a smoothing regulariser"};
    case Application::kDeconvolve:
      return {"deconv", {"ced"}, "validated with the CED regularisers (ced-restore, ced)"};
    case Application::kUpscale:
      return {"upscale", {"tv"}, "validated with the TV regulariser (paper eq. 4.6, 4.7)"};
  }
  return {"?", {}, ""};
}

}  // namespace

void RequireModelFor(Application app, const Model& model, bool force) {
  const Need need = NeedOf(app);
  if (model.form == ModelForm::kResample)
    Fail(need.command, " needs a PDE model; this is a resampling model (for `blade resample`)");
  if (force) return;
  if (std::find(need.pdes.begin(), need.pdes.end(), model.pde) != need.pdes.end()) return;
  std::string list;
  for (std::size_t i = 0; i < need.pdes.size(); ++i)
    list += (i ? (i + 1 == need.pdes.size() ? " or " : ", ") : "") + need.pdes[i];
  Fail(need.command, " needs a ", list, " model (", need.why, "); this one is a ",
       model.pde.empty() ? "unnamed" : model.pde,
       " model. --force-model (Python: force_model=True) runs it anyway");
}

}  // namespace blade
