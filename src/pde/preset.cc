// Preset parsing (nlohmann-json), the compiled-in preset table, and the reference frame sequence.
#include "blade/preset.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "blade/error.h"
#include "blade/ops.h"
#include "presets_data.h"  // generated: kBuiltinPresetsJson

namespace blade {

double Preset::hr_dt_in_hr_pixels() const {
  const double s = scale;
  return hr_dt() * (pde == Pde::kTv ? s : s * s);
}

std::vector<Preset> ParsePresets(const std::string& json_text) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    Fail("presets are not valid JSON: ", e.what());
  }
  std::vector<Preset> out;
  try {
    for (const auto& j : doc.at("presets")) {
      Preset p;
      p.name = j.at("name").get<std::string>();
      p.description = j.value("description", "");
      p.pde = ParsePde(j.at("pde").get<std::string>());
      const nlohmann::json params = j.value("params", nlohmann::json::object());
      for (const auto& [key, value] : params.items()) p.params.Set(p.pde, key, value.get<double>());
      p.time = j.at("time").get<double>();
      p.scale = j.value("scale", 4);
      p.hr_steps = j.at("hr_steps").get<int>();
      p.frames = j.value("frames", 10);
      p.selection_rho = j.value("selection_rho", 1.0);
      p.selection_bins = j.value("selection_bins", std::vector<int>{24, 3, 3, 1});
      if (p.selection_bins.size() == 3) p.selection_bins.push_back(1);
      if (p.selection_bins.size() != 4)
        Fail("preset '", p.name, "': selection_bins needs 3 or 4 values");
      RequirePositive(p.time, "preset time");
      RequirePositive(p.selection_rho, "preset selection_rho");
      if (p.scale < 1 || p.frames < 1 || p.hr_steps < p.frames || p.hr_steps % p.frames != 0)
        Fail("preset '", p.name,
             "': need scale >= 1, frames >= 1 and hr_steps a multiple of frames");
      out.push_back(p);
    }
  } catch (const nlohmann::json::exception& e) {
    Fail("invalid preset: ", e.what());
  }
  return out;
}

const std::vector<Preset>& BuiltinPresets() {
  static const std::vector<Preset> presets = ParsePresets(kBuiltinPresetsJson);
  return presets;
}

const Preset& FindPreset(const std::string& name) {
  std::string known;
  for (const Preset& p : BuiltinPresets()) {
    if (p.name == name) return p;
    known += (known.empty() ? "" : ", ") + p.name;
  }
  Fail("unknown preset '", name, "' (known: ", known, ")");
}

const Preset& DefaultPreset(Pde pde) { return FindPreset(PdeName(pde)); }

double Preset::Value(const std::string& key) const {
  if (key == "time") return time;
  const auto all = params.ToMap(pde);
  const auto it = all.find(key);
  if (it == all.end()) {
    std::string known;
    for (const auto& [k, v] : all) known += k + ", ";
    Fail("'", key, "' is not a parameter of ", PdeName(pde), " (", known, "or time)",
         StoppingTimeHint(key));
  }
  return it->second;
}

Preset PresetAt(const Preset& preset, const std::map<std::string, double>& params, double time) {
  Preset p = preset;
  p.params = PdeParamsWith(p.pde, p.params, params);  // refuses c1 without split, as solve
  std::string name;
  for (const auto& [k, v] : params) name += StrCat(name.empty() ? "" : ",", k, "=", v);
  p.params.Validate(p.pde);
  // CED's diffusion tensor comes from the structure tensor at scale rho; BLADE's selection,
  // which stands in for it, keeps the preset's ratio to it (1 for the ced preset).
  if (p.pde == Pde::kCed)
    p.selection_rho = preset.selection_rho * p.params.ced_rho / preset.params.ced_rho;
  if (time != 0) {
    if (!std::isfinite(time) || time <= 0)
      Fail("the stopping time must be positive (got ", time, ")");
    p.time = time;
  }
  // At least the preset's steps per unit time, and stable at the fine grid.
  const double stable = MakeSolver(p.pde, p.params)->DefaultDt(1.0 / p.scale);
  const double steps = std::max(std::ceil(preset.hr_steps * p.time / preset.time - 1e-9),
                                std::ceil(p.time / stable * (1 - 1e-12)));
  if (!(steps <= 1e6)) Fail("the reference would need ", steps, " steps (at most 1000000)");
  p.hr_steps = (int(steps) + p.frames - 1) / p.frames * p.frames;
  p.name = StrCat(preset.name, "@", name, name.empty() ? "" : ",", "T=", p.time);
  return p;
}

Preset PresetWithFrames(const Preset& preset, int frames) {
  if (frames == 0) return preset;
  if (frames < 1 || frames > 1000) Fail("BLADE's steps must be 1..1000 (got ", frames, ")");
  Preset p = preset;
  p.frames = frames;
  p.hr_steps = (preset.hr_steps + frames - 1) / frames * frames;
  return p;
}

std::vector<Image> ReferenceFrames(const Preset& preset, const Image& hr,
                                   const std::function<void(int, int)>& on_progress) {
  if (hr.width() % preset.scale != 0 || hr.height() % preset.scale != 0)
    Fail("reference image ", hr.width(), "x", hr.height(), " is not divisible by the scale ",
         preset.scale);
  std::vector<Image> frames;
  SolveOptions o;
  o.time = preset.time;
  o.steps = preset.hr_steps;
  o.dx = 1.0 / preset.scale;
  o.frames_every = preset.frame_every();
  o.on_frame = [&](int, const Image& u) { frames.push_back(AreaDownsample(u, preset.scale)); };
  o.on_progress = on_progress;
  Solve(preset.pde, preset.params, hr, o);
  return frames;
}

}  // namespace blade
