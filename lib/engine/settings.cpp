#include "engine/settings.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "core/error.h"
#include "sched/scheduler.h"

namespace thg::pipeline {

namespace {

using T = SettingInfo::Type;

std::string number_text(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

[[noreturn]] void bad(const char* name, const std::string& why, const std::string& text) {
  throw Error::input("", std::string(name) + " must be " + why + " (got '" + text + "')");
}

double parse_number(const char* name, const std::string& text, double lo, double hi, bool integer) {
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  const bool whole = end && *end == '\0' && !text.empty() && errno == 0 && std::isfinite(v);
  std::ostringstream range;
  range << (integer ? "an integer" : "a number") << " from " << number_text(lo) << " to " << number_text(hi);
  if (!whole || v < lo || v > hi || (integer && v != std::floor(v))) bad(name, range.str(), text);
  return v;
}

bool parse_flag(const char* name, const std::string& text) {
  std::string t = text;
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  if (t == "true" || t == "1" || t == "yes") return true;
  if (t == "false" || t == "0" || t == "no") return false;
  bad(name, "true or false", text);
}

std::string choice(const char* name, const std::string& text, const std::vector<std::string>& choices) {
  if (std::find(choices.begin(), choices.end(), text) != choices.end()) return text;
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  bad(name, "one of " + list, text);
}

std::vector<std::string> sampler_names() {
  std::vector<std::string> names;
  for (const auto& s : sched::samplers()) names.push_back(s.name);
  return names;
}

// A row whose value is a GenerateOptions member M of arithmetic type, unset when equal to `unset`.
#define THG_NUMBER(NAME, MEMBER, TYPE, LO, HI, UNSET, HELP, INTEGER)                                         \
  SettingInfo {                                                                                             \
    NAME, INTEGER ? T::Integer : T::Number, LO, HI, {}, HELP,                                               \
        [](const GenerateOptions& o) { return o.MEMBER == UNSET ? std::string() : number_text(static_cast<double>(o.MEMBER)); }, \
        [](GenerateOptions& o, const std::string& s) { o.MEMBER = static_cast<TYPE>(parse_number(NAME, s, LO, HI, INTEGER)); } \
  }
#define THG_OPTIONAL(NAME, MEMBER, LO, HI, HELP)                                                            \
  SettingInfo {                                                                                             \
    NAME, T::Number, LO, HI, {}, HELP,                                                                      \
        [](const GenerateOptions& o) { return o.MEMBER ? number_text(*o.MEMBER) : std::string(); },         \
        [](GenerateOptions& o, const std::string& s) { o.MEMBER = parse_number(NAME, s, LO, HI, false); }   \
  }

std::vector<SettingInfo> make_table() {
  std::vector<SettingInfo> t;
  t.push_back({"sampler", T::Text, 0, 0, sampler_names(), "Sampler (default: the model's)",
               [](const GenerateOptions& o) { return o.sampler; },
               [](GenerateOptions& o, const std::string& s) { o.sampler = choice("sampler", s, sampler_names()); }});
  t.push_back(THG_NUMBER("steps", steps, int64_t, 1, 1000, 0, "Denoising steps (default: the model's)", true));
  t.push_back({"schedule", T::Text, 0, 0, {"default", "karras"},
               "Sigma spacing: default or karras (euler, heun, dpmpp-*, unipc)",
               [](const GenerateOptions& o) { return o.schedule; },
               [](GenerateOptions& o, const std::string& s) { o.schedule = choice("schedule", s, {"default", "karras"}); }});
  t.push_back(THG_NUMBER("eta", eta, double, 0.0, 1.0, 0.0, "DDIM eta: 0 deterministic, 1 DDPM-like", false));
  t.push_back(THG_OPTIONAL("guidance_ref", guidance_reference, 0.0, 30.0,
                           "Reference (portrait) guidance scale; 1 = off (default: the model's)"));
  t.push_back(THG_OPTIONAL("guidance_audio", guidance_audio, 0.0, 30.0, "Audio guidance scale; 1 = off (default: the model's)"));
  t.push_back(THG_OPTIONAL("guidance_rescale", guidance_rescale, 0.0, 1.0, "Guidance rescale 0..1 (default: the model's)"));
  t.push_back({"decode", T::Text, 0, 0, {"direct", "reference_delta"},
               "Latents to pixels: direct (the decoder's output) or reference_delta (the portrait plus the decoded "
               "change from it; default: the model's)",
               [](const GenerateOptions& o) { return o.decode; },
               [](GenerateOptions& o, const std::string& s) { o.decode = choice("decode", s, {"direct", "reference_delta"}); }});
  t.push_back({"seed", T::Integer, 0, 18446744073709551615.0, {}, "Random seed: the same seed gives the same video (default 0)",
               [](const GenerateOptions& o) { return o.seed == 0 ? std::string() : std::to_string(o.seed); },
               [](GenerateOptions& o, const std::string& s) {
                 // All 64 bits (a double would round seeds above 2^53).
                 errno = 0;
                 char* end = nullptr;
                 const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
                 if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || errno != 0 || *end != '\0')
                   bad("seed", "an integer from 0 to 18446744073709551615", s);
                 o.seed = v;
               }});
  t.push_back(THG_NUMBER("fps", fps, int, 1, 120, 0, "Frames per second (default: the model's, 25)", true));
  t.push_back(THG_NUMBER("size", size, int64_t, 32, 2048, 0,
                         "The model's working size in pixels: the face crop's side, or the whole image's with "
                         "--no-crop (default: the model's)", true));
  t.push_back(THG_NUMBER("crf", crf, int, 0, 51, 18, "H.264 quality, 0 (lossless) to 51 (worst); default 18", true));
  t.push_back(THG_NUMBER("chunk_frames", chunk_frames, int64_t, 1, 1024, 0,
                         "Frames denoised together (memory vs speed; default: the model's)", true));
  t.push_back(THG_NUMBER("chunk_overlap", chunk_overlap, int64_t, 0, 1023, -1,
                         "Frames shared by consecutive chunks, cross-faded (default: the model's)", true));
  t.push_back(THG_NUMBER("max_audio_seconds", max_audio_seconds, double, 0.04, 86400.0, 3600.0,
                         "Refuse longer audio (default 3600)", false));
  t.push_back(THG_NUMBER("max_frames", max_frames, int64_t, 0, 100000000, 0,
                         "Only the first N frames and their audio (previews; 0: all)", true));
  t.push_back({"crop", T::Flag, 0, 0, {}, "Find the face, animate it and paste it back into the photo (false: the "
                                           "whole image is the model's input, the CLI's --no-crop; default true)",
               [](const GenerateOptions& o) { return o.placement.crop ? std::string() : std::string("false"); },
               [](GenerateOptions& o, const std::string& s) { o.placement.crop = parse_flag("crop", s); }});
  t.push_back({"face", T::Integer, 0, 1000, {}, "Which face to animate: 0 is the most confident (see `thg faces`)",
               [](const GenerateOptions& o) { return o.placement.face < 0 ? std::string() : std::to_string(o.placement.face); },
               [](GenerateOptions& o, const std::string& s) {
                 o.placement.face = static_cast<int>(parse_number("face", s, 0, 1000, true));
               }});
  t.push_back(THG_NUMBER("crop_scale", placement.crop_scale, double, 0.5, 4.0, 1.0,
                         "Margin around the face in the model's crop (> 1: more around it; default 1)", false));
  t.push_back(THG_NUMBER("max_size", placement.max_size, int, 64, 8192, 1280,
                         "The video's long side at most, in pixels (default 1280)", true));
  t.push_back({"framing", T::Text, 0, 0, {"photo", "square", "portrait"},
               "What the video shows: photo (the whole photo, default), square or portrait (9:16) head and shoulders",
               [](const GenerateOptions& o) { return o.placement.framing == "photo" ? std::string() : o.placement.framing; },
               [](GenerateOptions& o, const std::string& s) {
                 o.placement.framing = choice("framing", s, {"photo", "square", "portrait"});
               }});
  return t;
}

#undef THG_NUMBER
#undef THG_OPTIONAL

}  // namespace

std::string SettingInfo::flag() const {
  std::string f = std::string("--") + name;
  std::replace(f.begin(), f.end(), '_', '-');
  return f;
}

const std::vector<SettingInfo>& generation_settings() {
  static const std::vector<SettingInfo> table = make_table();
  return table;
}

const SettingInfo* find_setting(const std::string& name) {
  std::string n = name;
  std::replace(n.begin(), n.end(), '-', '_');
  for (const SettingInfo& s : generation_settings())
    if (n == s.name) return &s;
  return nullptr;
}

std::vector<std::pair<std::string, std::string>> settings_text(const GenerateOptions& o) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const SettingInfo& s : generation_settings())
    if (std::string v = s.get(o); !v.empty()) out.emplace_back(s.name, v);
  return out;
}

}  // namespace thg::pipeline
