// The model file: one versioned, self-describing JSON document; every field is validated on load.
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "blade/error.h"
#include "blade/io.h"
#include "blade/model.h"

namespace blade {
namespace {

using nlohmann::json;
constexpr const char* kMagic = "blade-model";

json SelectionToJson(const SelectionConfig& s) {
  return {{"orientations", s.orientations},
          {"strengths", s.strengths},
          {"coherences", s.coherences},
          {"intensities", s.intensities},
          {"rho", s.rho},
          {"joint_color", s.joint_color},
          {"strength_thresholds", s.strength_thresholds},
          {"coherence_thresholds", s.coherence_thresholds},
          {"intensity_thresholds", s.intensity_thresholds}};
}

SelectionConfig SelectionFromJson(const json& j) {
  SelectionConfig s;
  s.orientations = j.at("orientations").get<int>();
  s.strengths = j.at("strengths").get<int>();
  s.coherences = j.at("coherences").get<int>();
  s.intensities = j.at("intensities").get<int>();
  s.rho = j.at("rho").get<double>();
  s.joint_color = j.value("joint_color", false);
  s.strength_thresholds = j.at("strength_thresholds").get<std::vector<float>>();
  s.coherence_thresholds = j.at("coherence_thresholds").get<std::vector<float>>();
  s.intensity_thresholds = j.at("intensity_thresholds").get<std::vector<float>>();
  return s;
}

}  // namespace

std::string SerializeModel(const Model& model) {
  model.Validate();
  json banks = json::array();
  for (const Bank& b : model.banks)
    banks.push_back({{"selection", SelectionToJson(b.selection)},
                     {"footprint", b.filters.size},
                     {"count", b.filters.count},
                     {"taps", b.filters.taps}});
  json doc = {{"format", kMagic},
              {"version", Model::kFormatVersion},
              {"form", FormName(model.form)},
              {"pde", model.pde},
              {"preset", model.preset},
              {"pde_params", model.pde_params},
              {"dt", model.dt},
              {"steps", model.steps},
              {"integrator", IntegratorName(model.integrator)},
              {"constraint", model.constraint},
              {"safe_steps", model.safe_steps},
              {"safe_range", {model.safe_range[0], model.safe_range[1]}},
              {"provenance", model.provenance},
              {"banks", banks}};
  return doc.dump(1) + "\n";
}

Model ParseModel(const std::string& text, const std::string& name) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception&) {
    Fail("'", name, "' is not a blade model (not valid JSON; truncated or corrupt?)");
  }
  if (!doc.is_object() || doc.value("format", "") != kMagic)
    Fail("'", name, "' is not a blade model (missing \"format\": \"", kMagic, "\")");
  Model m;
  try {
    const int version = doc.at("version").get<int>();
    if (version != Model::kFormatVersion)
      Fail("'", name, "' is a version ", version, " model; this blade reads version ",
           Model::kFormatVersion);
    m.form = ParseForm(doc.at("form").get<std::string>());
    m.pde = doc.value("pde", "");
    m.preset = doc.value("preset", "");
    m.pde_params = doc.value("pde_params", std::map<std::string, double>{});
    m.dt = doc.at("dt").get<double>();
    m.steps = doc.value("steps", 10);
    m.integrator = ParseIntegrator(doc.value("integrator", "euler"));
    m.constraint = doc.value("constraint", "none");
    m.safe_steps = doc.value("safe_steps", -1);
    if (doc.contains("safe_range")) {
      const auto r = doc.at("safe_range").get<std::vector<float>>();
      if (r.size() != 2) Fail("'", name, "': safe_range must hold two numbers");
      m.safe_range[0] = r[0];
      m.safe_range[1] = r[1];
    }
    m.provenance = doc.value("provenance", std::map<std::string, std::string>{});
    for (const json& b : doc.at("banks")) {
      Bank bank;
      bank.selection = SelectionFromJson(b.at("selection"));
      bank.filters.size = b.at("footprint").get<int>();
      bank.filters.count = b.at("count").get<int>();
      // Values that JSON cannot hold (NaN, inf) are written as null: caught by Validate.
      for (const json& t : b.at("taps"))
        bank.filters.taps.push_back(t.is_number() ? t.get<float>() : NAN);
      m.banks.push_back(std::move(bank));
    }
  } catch (const json::exception& e) {
    Fail("'", name, "' is not a valid blade model: ", e.what());
  }
  try {
    m.Validate();
  } catch (const Error& e) {
    Fail("'", name, "' is not a valid blade model: ", e.what());
  }
  return m;
}

Model LoadModel(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail("cannot open model '", path, "': ", std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (ss.str().empty()) Fail("model '", path, "' is empty");
  if (ss.str().size() > (std::size_t(1) << 30)) Fail("model '", path, "' is too large");
  return ParseModel(ss.str(), path);
}

void SaveModel(const Model& model, const std::string& path) {
  WriteTextFileAtomically(path, SerializeModel(model));
}

}  // namespace blade
