// Options shared by the commands that generate (generate, batch, bench, evaluate). The generation
// settings' flags come from the settings table (pipeline/settings.h).
#include "options.h"

#include <functional>

#include "core/error.h"
#include "engine/settings.h"
#include "sched/scheduler.h"

namespace thg::app {

namespace {
// One CLI flag from a row of the settings table (pipeline/settings.h): the same name, bounds and
// help as the manifest field; a bad value is CLI11's usage error (exit 2) with the table's message.
// `apply` stores a checked value where the command keeps its options.
void add_setting(CLI::App& app, const pipeline::SettingInfo& row,
                 std::function<void(const pipeline::SettingInfo&, const std::string&)> apply) {
  std::string help = row.help;
  if (std::string(row.name) == "sampler")
    for (const auto& s : sched::samplers()) help += std::string("\n  ") + s.name + ": " + s.summary;
  CLI::Option* option = app.add_option_function<std::string>(
      row.flag(),
      [&row, apply](const std::string& value) {
        try {
          apply(row, value);
        } catch (const Error& e) {
          throw CLI::ValidationError(row.flag(), e.reason());
        }
      },
      help);
  using Type = pipeline::SettingInfo::Type;
  if (row.type == Type::Integer) option->type_name("INT");
  else if (row.type == Type::Number) option->type_name("NUMBER");
  else if (!row.choices.empty() && row.choices.size() <= 4) {
    std::string names;
    for (const auto& c : row.choices) names += (names.empty() ? "" : "|") + c;
    option->type_name(names);
  }
}

bool is_placement(const std::string& name) {
  return name == "crop" || name == "face" || name == "crop_scale" || name == "max_size" || name == "framing";
}
}  // namespace

void add_generation_options(CLI::App& app, pipeline::GenerateOptions& g, bool sampler_and_steps) {
  for (const pipeline::SettingInfo& row : pipeline::generation_settings()) {
    const std::string name = row.name;
    if (is_placement(name)) continue;  // add_placement_options
    if (!sampler_and_steps && (name == "sampler" || name == "steps")) continue;
    add_setting(app, row, [&g](const pipeline::SettingInfo& r, const std::string& v) { r.set(g, v); });
  }
}

void add_placement_options(CLI::App& app, portrait::PortraitOptions& p) {
  app.add_flag("!--no-crop", p.crop,
               "Use the whole image as the model's input (for images that are already face crops, or not faces); "
               "by default the face is found, animated and pasted back into the photo (manifest field: crop)");
  for (const pipeline::SettingInfo& row : pipeline::generation_settings()) {
    const std::string name = row.name;
    if (!is_placement(name) || name == "crop") continue;
    add_setting(app, row, [&p](const pipeline::SettingInfo& r, const std::string& v) {
      pipeline::GenerateOptions scratch;  // the table writes GenerateOptions; only its placement is kept
      scratch.placement = p;
      r.set(scratch, v);
      p = scratch.placement;
    });
  }
}

void add_model_options(CLI::App& app, pipeline::ModelSource& model, std::string& attention) {
  app.add_option("--weights", model.weights, "Model weights (default: the bundled weights/pixel-latent.safetensors)");
  app.add_option("--config", model.config,
                 "Model config YAML to run with a seeded random initialisation (development; ignored with --weights)");
  app.add_option("--device", model.device, "auto, cpu, cuda or cuda:N")->default_val("auto");
  app.add_option("--dtype", model.dtype, "float32, float16 (CUDA) or bfloat16")->default_val("float32");
  app.add_option("--attention", attention, "Attention backend: auto, math, sdpa, fused (default: the model config's)");
}

void apply_attention(const std::string& attention, const model::ModelFamily& model) {
  nn::set_attention_backend(
      nn::parse_attention_backend(attention.empty() ? model.config().generation.attention : attention));
}

}  // namespace thg::app
