// The model file: one versioned, self-describing JSON document; every field is validated on load.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>
#include <vector>

#include "base/hash.h"
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

// Checked conversions: a JSON number outside the target type's range (e.g. 4e83 where an int
// belongs, or 1e300 for a float tap) is an error, not an undefined conversion (found by
// fuzz/model_loader_fuzz). Fails with the field's name.
int ToInt(const json& v, const char* what) {
  if (!v.is_number()) Fail("\"", what, "\" must be a number");
  const double d = v.get<double>();
  if (!(d >= -2147483648.0 && d <= 2147483647.0) || d != std::floor(d))
    Fail("\"", what, "\" must be an integer in the int range (got ", d, ")");
  return int(d);
}

int IntOr(const json& doc, const char* key, int fallback) {
  return doc.contains(key) ? ToInt(doc.at(key), key) : fallback;
}

// Non-numbers (JSON null stands for NaN/inf) become NaN, caught later by Validate; finite
// numbers beyond float's range become +-inf, likewise caught.
float ToFloat(const json& v) {
  if (!v.is_number()) return NAN;
  const double d = v.get<double>();
  if (std::isfinite(d) && std::abs(d) > double(std::numeric_limits<float>::max()))
    return d > 0 ? INFINITY : -INFINITY;
  return float(d);
}

std::vector<float> Floats(const json& v, const char* what) {
  if (!v.is_array()) Fail("\"", what, "\" must be an array of numbers");
  std::vector<float> out;
  out.reserve(v.size());
  for (const json& x : v) out.push_back(ToFloat(x));
  return out;
}

SelectionConfig SelectionFromJson(const json& j) {
  SelectionConfig s;
  s.orientations = ToInt(j.at("orientations"), "orientations");
  s.strengths = ToInt(j.at("strengths"), "strengths");
  s.coherences = ToInt(j.at("coherences"), "coherences");
  s.intensities = ToInt(j.at("intensities"), "intensities");
  s.rho = j.at("rho").get<double>();
  s.joint_color = j.value("joint_color", false);
  s.strength_thresholds = Floats(j.at("strength_thresholds"), "strength_thresholds");
  s.coherence_thresholds = Floats(j.at("coherence_thresholds"), "coherence_thresholds");
  s.intensity_thresholds = Floats(j.at("intensity_thresholds"), "intensity_thresholds");
  return s;
}

// Each tap as the double nearest its shortest float decimal (at most 9 digits, std::to_chars),
// so the file holds that decimal instead of the float's 17-digit double (a third of the
// size), and still reads back to the same float. Non-finite taps stay as they are (Validate
// refuses them).
std::vector<double> ShortestTaps(const std::vector<float>& taps) {
  std::vector<double> out(taps.size());
  char text[32];
  for (std::size_t i = 0; i < taps.size(); ++i) {
    if (!std::isfinite(taps[i])) {
      out[i] = taps[i];
      continue;
    }
    const auto end = std::to_chars(text, text + sizeof text - 1, taps[i]).ptr;
    *end = 0;
    out[i] = std::strtod(text, nullptr);
  }
  return out;
}

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Taps as base64 (RFC 4648, with padding) of their little-endian IEEE binary32 bytes: a
// parametric model's knots hold tens of banks, and this is half the size of the decimals and
// several times faster to read.
std::string EncodeFloats(const std::vector<float>& values) {
  std::string bytes(values.size() * 4, '\0');
  for (std::size_t i = 0; i < values.size(); ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, &values[i], 4);
    for (int b = 0; b < 4; ++b) bytes[4 * i + b] = char((bits >> (8 * b)) & 0xff);
  }
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t v = 0;
    for (std::size_t j = 0; j < 3; ++j) v = (v << 8) | (j < n ? std::uint8_t(bytes[i + j]) : 0u);
    for (std::size_t j = 0; j < 4; ++j) out += j <= n ? kBase64[(v >> (18 - 6 * j)) & 63] : '=';
  }
  return out;
}

std::vector<float> DecodeFloats(const json& v, const char* what) {
  if (!v.is_string()) Fail("\"", what, "\" must be a base64 string");
  const std::string& text = v.get_ref<const std::string&>();
  if (text.size() % 4 != 0) Fail("\"", what, "\" is not base64 (length ", text.size(), ")");
  std::string bytes;
  bytes.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    std::uint32_t acc = 0;
    int pad = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const char c = text[i + j];
      const char* at = c == '\0' ? nullptr : std::strchr(kBase64, c);
      if (c == '=' && i + 4 == text.size() && j >= 2) {
        ++pad;
        acc <<= 6;
        continue;
      }
      if (at == nullptr || pad > 0) Fail("\"", what, "\" is not base64");
      acc = (acc << 6) | std::uint32_t(at - kBase64);
    }
    for (int j = 0; j < 3 - pad; ++j) bytes += char((acc >> (16 - 8 * j)) & 0xff);
  }
  if (bytes.size() % 4 != 0) Fail("\"", what, "\" does not hold whole 32-bit floats");
  std::vector<float> out(bytes.size() / 4);
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::uint32_t bits = 0;
    for (int b = 3; b >= 0; --b) bits = (bits << 8) | std::uint8_t(bytes[4 * i + b]);
    std::memcpy(&out[i], &bits, 4);
  }
  return out;
}

// Point models write taps as decimals ("taps"), a parametric model's knots as base64 binary32
// ("taps_f32"); the reader takes either.
json BanksToJson(const std::vector<Bank>& banks, bool binary) {
  json out = json::array();
  for (const Bank& b : banks) {
    json bank = {{"selection", SelectionToJson(b.selection)},
                 {"footprint", b.filters.size},
                 {"count", b.filters.count}};
    if (binary) {
      bank["taps_f32"] = EncodeFloats(b.filters.taps);
    } else {
      bank["taps"] = ShortestTaps(b.filters.taps);
    }
    out.push_back(std::move(bank));
  }
  return out;
}

std::vector<Bank> BanksFromJson(const json& banks) {
  std::vector<Bank> out;
  for (const json& b : banks) {
    Bank bank;
    bank.selection = SelectionFromJson(b.at("selection"));
    bank.filters.size = ToInt(b.at("footprint"), "footprint");
    bank.filters.count = ToInt(b.at("count"), "count");
    // Values that JSON cannot hold (NaN, inf) are written as null: caught by Validate.
    bank.filters.taps = b.contains("taps_f32") ? DecodeFloats(b.at("taps_f32"), "taps_f32")
                                               : Floats(b.at("taps"), "taps");
    out.push_back(std::move(bank));
  }
  return out;
}

// "fnv1a64:<16 hex digits>" of the document without its checksum, dumped compactly: keys are
// sorted and every number is written in its shortest round-trip form, so a parsed document
// dumps to the same text it was computed from, whatever the whitespace of the file.
std::string ContentChecksum(json doc) {
  doc.erase("checksum");
  const std::string text = doc.dump();
  char hex[32];
  std::snprintf(hex, sizeof hex, "fnv1a64:%016llx",
                static_cast<unsigned long long>(Fnv1a(text.data(), text.size())));
  return hex;
}

}  // namespace

std::string SerializeModel(const Model& model) {
  model.Validate();
  json doc = {{"format", kMagic},
              {"version", Model::kFormatVersion},
              {"form", FormName(model.form)},
              {"pde", model.pde},
              {"preset", model.preset},
              {"pde_params", model.pde_params},
              {"dt", model.dt},
              {"steps", model.steps},
              {"integrator", IntegratorName(model.integrator)},
              {"constraint", ConstraintName(model.constraint)},
              {"safe_steps", model.safe_steps},
              {"safe_range", {model.safe_range[0], model.safe_range[1]}},
              {"provenance", model.provenance}};
  if (model.parametric()) {
    // The banks at the default point are the blend of the knots' (made again on loading).
    json axes = json::array(), knots = json::array();
    for (const ParamAxis& a : model.axes) axes.push_back({{"name", a.name}, {"knots", a.knots}});
    for (const KnotModel& k : model.knots)
      knots.push_back({{"dt", k.dt},
                       {"safe_steps", k.safe_steps},
                       {"safe_range", {k.safe_range[0], k.safe_range[1]}},
                       {"banks", BanksToJson(k.banks, true)}});
    doc["axes"] = axes;
    doc["knots"] = knots;
  } else {
    doc["banks"] = BanksToJson(model.banks, false);
  }
  if (model.scheme_term) doc["scheme_term"] = true;  // absent: false (files before it)
  if (model.form == ModelForm::kUpscale)
    doc["upscale"] = {{"factor", model.upscale.factor},
                      {"degradation", model.upscale.degradation},
                      {"back_projections", model.upscale.back_projections}};
  if (!model.upscale.refiner.empty()) {
    json layers = json::array();
    for (const ConvLayer& l : model.upscale.refiner.layers)
      layers.push_back({{"in", l.in},
                        {"out", l.out},
                        {"weights_f32", EncodeFloats(l.weights)},
                        {"bias_f32", EncodeFloats(l.bias)}});
    doc["upscale"]["refiner"] = layers;
  }
  if (model.form == ModelForm::kDenoise)
    doc["denoise"] = {{"sigmas", model.denoise.sigmas},
                      {"stages", model.denoise.stages},
                      {"channels", model.denoise.channels}};
  doc["checksum"] = ContentChecksum(doc);
  // Indented for reading, except the taps: one line per bank instead of one per number, which
  // would make a file a third larger (whitespace does not enter the checksum).
  std::vector<std::string> taps;
  const auto mark_taps = [&taps](json& banks) {
    for (json& b : banks) {
      if (!b.contains("taps")) continue;
      taps.push_back(b["taps"].dump());
      b["taps"] = StrCat("@taps-", taps.size() - 1, "@");
    }
  };
  if (!model.parametric()) mark_taps(doc["banks"]);
  std::string text = doc.dump(1);
  for (std::size_t b = 0; b < taps.size(); ++b) {
    const std::string mark = StrCat("\"@taps-", b, "@\"");
    text.replace(text.find(mark), mark.size(), taps[b]);
  }
  return text + "\n";
}

Model ParseModel(const std::string& text, const std::string& name) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception&) {
    // An image given where a model belongs (`blade info photo.png`) says so.
    using namespace std::string_view_literals;
    for (const std::string_view magic :
         {"\x89PNG"sv, "\xFF\xD8\xFF"sv, "II*\0"sv, "MM\0*"sv, "\x93NUMPY"sv})
      if (text.compare(0, magic.size(), magic) == 0)
        Fail("'", name,
             "' is an image, not a blade model (.blade); see models/ for the shipped ones");
    Fail("'", name, "' is not a blade model (not valid JSON; truncated or corrupt?)");
  }
  // A "format" of the wrong JSON type must also be an Error, not a json exception.
  if (!doc.is_object() || !doc.contains("format") || !doc.at("format").is_string() ||
      doc.at("format").get<std::string>() != kMagic)
    Fail("'", name, "' is not a blade model (missing \"format\": \"", kMagic, "\")");
  Model m;
  try {
    const int version = ToInt(doc.at("version"), "version");
    if (version != Model::kFormatVersion)
      Fail("'", name, "' is a version ", version, " model; this blade reads version ",
           Model::kFormatVersion);
    // After the version: a newer file says so, rather than looking damaged.
    // Files written before checksums were stored have none and still load.
    if (doc.contains("checksum") && (!doc.at("checksum").is_string() ||
                                     doc.at("checksum").get<std::string>() != ContentChecksum(doc)))
      Fail("'", name, "' is damaged: checksum mismatch (its content changed after it was written)");
    m.form = ParseForm(doc.at("form").get<std::string>());
    m.pde = doc.value("pde", "");
    m.preset = doc.value("preset", "");
    m.pde_params = doc.value("pde_params", std::map<std::string, double>{});
    m.dt = doc.at("dt").get<double>();
    m.steps = IntOr(doc, "steps", 10);
    m.integrator = ParseIntegrator(doc.value("integrator", "euler"));
    m.constraint = ParseConstraint(doc.value("constraint", "none"));
    m.scheme_term = doc.value("scheme_term", false);
    m.safe_steps = IntOr(doc, "safe_steps", -1);
    if (doc.contains("safe_range")) {
      const auto r = Floats(doc.at("safe_range"), "safe_range");
      if (r.size() != 2) Fail("'", name, "': safe_range must hold two numbers");
      m.safe_range[0] = r[0];
      m.safe_range[1] = r[1];
    }
    m.provenance = doc.value("provenance", std::map<std::string, std::string>{});
    if (m.form == ModelForm::kUpscale) {
      const json& up = doc.at("upscale");
      m.upscale.factor = ToInt(up.at("factor"), "factor");
      m.upscale.degradation = up.at("degradation").get<std::string>();
      m.upscale.back_projections = ToInt(up.at("back_projections"), "back_projections");
      if (up.contains("refiner")) {  // absent: none (files before the refiner)
        const json& layers = up.at("refiner");
        if (!layers.is_array() || layers.empty())
          Fail("'", name, "': upscale.refiner must be a non-empty array of layers");
        for (std::size_t i = 0; i < layers.size(); ++i) {
          const json& l = layers[i];
          for (const char* key : {"in", "out", "weights_f32", "bias_f32"})
            if (!l.is_object() || !l.contains(key))
              Fail("'", name, "': refiner layer ", i, " has no '", key, "'");
          m.upscale.refiner.layers.push_back({ToInt(l.at("in"), "in"), ToInt(l.at("out"), "out"),
                                              DecodeFloats(l.at("weights_f32"), "weights_f32"),
                                              DecodeFloats(l.at("bias_f32"), "bias_f32")});
        }
      }
    }
    if (m.form == ModelForm::kDenoise) {
      const json& d = doc.at("denoise");
      m.denoise.sigmas = d.at("sigmas").get<std::vector<double>>();
      m.denoise.stages = ToInt(d.at("stages"), "stages");
      m.denoise.channels = ToInt(d.at("channels"), "channels");
    }
    if (doc.contains("axes")) {
      for (const json& a : doc.at("axes")) {
        ParamAxis axis;
        axis.name = a.at("name").get<std::string>();
        axis.knots = a.at("knots").get<std::vector<double>>();
        m.axes.push_back(std::move(axis));
      }
      for (const json& k : doc.at("knots")) {
        KnotModel knot;
        knot.dt = k.at("dt").get<double>();
        knot.safe_steps = IntOr(k, "safe_steps", -1);
        const auto r = Floats(k.at("safe_range"), "safe_range");
        if (r.size() != 2) Fail("'", name, "': a knot's safe_range must hold two numbers");
        knot.safe_range[0] = r[0];
        knot.safe_range[1] = r[1];
        knot.banks = BanksFromJson(k.at("banks"));
        m.knots.push_back(std::move(knot));
      }
    } else {
      m.banks = BanksFromJson(doc.at("banks"));
    }
  } catch (const json::exception& e) {
    Fail("'", name, "' is not a valid blade model: ", e.what());
  }
  try {
    if (m.parametric()) {
      // Shapes before blending (the blend reads every knot's banks), then the default banks.
      if (m.knots.empty()) Fail("a parametric model needs its knot models");
      m.banks = m.knots[0].banks;
      m.ValidateBox();
      m.banks = BlendModelAt(m, {}).banks;
    }
    m.Validate();
  } catch (const Error& e) {
    Fail("'", name, "' is not a valid blade model: ", e.what());
  }
  return m;
}

Model LoadModel(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    Fail("model '", path, "' is a folder; give a .blade file");
  std::ifstream in(path, std::ios::binary);
  if (!in) FailToOpen(path, "model ", errno);
  // Read at most one byte past the limit, so a device or a runaway file (/dev/zero) is refused
  // instead of filling the memory.
  std::string text;
  std::vector<char> chunk(1 << 20);
  while (in && text.size() <= kMaxModelBytes) {
    in.read(chunk.data(), std::streamsize(chunk.size()));
    text.append(chunk.data(), std::size_t(in.gcount()));
  }
  if (text.empty()) Fail("model '", path, "' is empty");
  if (text.size() > kMaxModelBytes)
    Fail("model '", path, "' is larger than ", kMaxModelBytes >> 20, " MiB; not a blade model");
  return ParseModel(text, path);
}

void SaveModel(const Model& model, const std::string& path) {
  WriteTextFileAtomically(path, SerializeModel(model));
}

}  // namespace blade
