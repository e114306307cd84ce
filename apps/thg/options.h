#pragma once
// Options shared by the commands that generate (generate, batch) and load a model (bench).
#include <CLI/CLI.hpp>

#include <string>

#include "nn/attention.h"
#include "engine/generate.h"
#include "engine/model_loader.h"

namespace thg::app {

// Sampler, steps, guidance, seed, fps, size, crf, chunking: the per-video options.
// sampler_and_steps = false leaves out --sampler/--steps (for commands that sweep them).
void add_generation_options(CLI::App& app, pipeline::GenerateOptions& options, bool sampler_and_steps = true);
// --no-crop, --face, --crop-scale, --max-size, --framing: where the face is and what the video shows.
void add_placement_options(CLI::App& app, portrait::PortraitOptions& placement);
// --weights, --config, --device, --dtype, --attention.
void add_model_options(CLI::App& app, pipeline::ModelSource& model, std::string& attention);
// Sets the attention backend: --attention if given, else the model config's.
void apply_attention(const std::string& attention, const model::ModelFamily& model);

}  // namespace thg::app
