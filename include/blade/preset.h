// Presets: each PDE's parameters, stopping time and reference-run resolution, shared by every
// command.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "blade/image.h"
#include "blade/pde.h"

namespace blade {

struct Preset {
  std::string name;
  std::string description;
  Pde pde = Pde::kPm;
  PdeParams params;            // operating-grid units
  double time = 0;             // stopping time T, operating-grid units
  int scale = 4;               // the reference runs at scale x the operating resolution
  int hr_steps = 0;            // equal reference steps from 0 to T at the fine grid
  int frames = 10;             // BLADE steps to T; hr_steps is a multiple of it
  double selection_rho = 1.0;  // structure-tensor scale for BLADE's filter selection
  // Orientation, strength, coherence, intensity bins BLADE models of this preset use.
  std::vector<int> selection_bins = {24, 3, 3, 1};

  // A parameter's value by its key (PdeParams::Set's names), or the stopping time for "time";
  // fails naming the keys of the PDE.
  double Value(const std::string& key) const;
  int frame_every() const { return hr_steps / frames; }  // M
  double hr_dt() const { return time / hr_steps; }       // dt_HR, operating units
  double dt() const { return time / frames; }            // BLADE's step
  // dt_HR in the fine grid's own pixel units (t_HR = scale * t for TV, scale^2 * t otherwise).
  double hr_dt_in_hr_pixels() const;
};

// The preset moved to another parameter point and stopping time (time 0: the preset's), for
// evaluating a model there: the reference keeps at least the preset's steps per unit time and
// is stable at its fine grid (hr_steps a multiple of frames); named "NAME@k=v,...,T=t".
Preset PresetAt(const Preset& preset, const std::map<std::string, double>& params, double time);

// The preset with BLADE taking `frames` steps to T instead of its own number (a model trained
// for more, smaller or fewer, larger steps: `blade train --steps`); hr_steps is rounded up to a
// multiple of it. frames 0 returns the preset unchanged; outside 1..1000 fails.
Preset PresetWithFrames(const Preset& preset, int frames);

// The presets shipped in presets/presets.json (compiled into the library).
const std::vector<Preset>& BuiltinPresets();
// Looks up a preset by name; fails naming the known presets.
const Preset& FindPreset(const std::string& name);
// The default preset of a PDE (the one named after it).
const Preset& DefaultPreset(Pde pde);
// Parses presets from JSON text (the format of presets/presets.json); validates every field.
std::vector<Preset> ParsePresets(const std::string& json_text);

// The reference target sequence of paper §2.3 for one high-resolution image (size divisible by
// the preset's scale): the scheme at dx = 1/scale with hr_steps steps to T, every M-th frame
// kept and area-downsampled by scale. Returns frames + 1 images (frame 0 = the LR initial
// condition).
std::vector<Image> ReferenceFrames(const Preset& preset, const Image& hr,
                                   const std::function<void(int, int)>& on_progress = {});

}  // namespace blade
