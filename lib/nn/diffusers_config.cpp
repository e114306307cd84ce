#include "nn/diffusers_config.h"

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace thg::nn {

namespace {

using nlohmann::json;

json parse(const std::string& text, const std::string& source) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) throw Error::input(source, "not a JSON object (diffusers config.json)");
  return j;
}

template <class T>
void read(const json& j, const char* key, T& out, const std::string& source) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  try {
    out = it->get<T>();
  } catch (const json::exception&) {
    throw Error::input(source, std::string("config field ") + key + " has an unexpected type");
  }
}

// A list-or-scalar field (diffusers allows both for head counts).
void read_int_list(const json& j, const char* key, std::vector<int64_t>& out, const std::string& source) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  if (it->is_number_integer()) out = {it->get<int64_t>()};
  else read(j, key, out, source);
}

// Refuses options whose value differs from the one THG computes.
void require(const json& j, const char* key, const json& supported, const std::string& source) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null() || *it == supported) return;
  throw Error::input(source, std::string("unsupported diffusers option ") + key + " = " + it->dump() +
                                 " (THG supports " + supported.dump() + ")");
}

void require_absent(const json& j, const char* key, const std::string& source) {
  auto it = j.find(key);
  if (it != j.end() && !it->is_null())
    throw Error::input(source, std::string("unsupported diffusers option ") + key + " = " + it->dump());
}

}  // namespace

UNetConfig unet_config_from_diffusers(const std::string& text, const std::string& source) {
  json j = parse(text, source);
  if (j.contains("_class_name") && j["_class_name"] != "UNet2DConditionModel")
    throw Error::input(source, "not a UNet2DConditionModel config (" + j["_class_name"].dump() + ")");
  for (const char* key : {"class_embed_type", "addition_embed_type", "encoder_hid_dim", "time_cond_proj_dim",
                          "num_class_embeds", "projection_class_embeddings_input_dim", "time_embedding_dim",
                          "timestep_post_act", "reverse_transformer_layers_per_block"})
    require_absent(j, key, source);
  require(j, "mid_block_type", "UNetMidBlock2DCrossAttn", source);
  require(j, "act_fn", "silu", source);
  require(j, "resnet_time_scale_shift", "default", source);
  require(j, "time_embedding_type", "positional", source);
  require(j, "time_embedding_act_fn", nullptr, source);
  require(j, "only_cross_attention", false, source);
  require(j, "upcast_attention", false, source);
  require(j, "dual_cross_attention", false, source);
  require(j, "center_input_sample", false, source);
  require(j, "attention_type", "default", source);
  require(j, "downsample_padding", 1, source);
  require(j, "mid_block_scale_factor", 1, source);
  require(j, "resnet_skip_time_act", false, source);
  require(j, "resnet_out_scale_factor", 1.0, source);
  require(j, "conv_in_kernel", 3, source);
  require(j, "conv_out_kernel", 3, source);
  require(j, "mid_block_only_cross_attention", nullptr, source);
  require(j, "cross_attention_norm", nullptr, source);
  require(j, "dropout", 0.0, source);
  require(j, "addition_time_embed_dim", nullptr, source);
  require(j, "class_embeddings_concat", false, source);
  if (j.contains("num_attention_heads") && !j["num_attention_heads"].is_null())
    throw Error::input(source, "unsupported diffusers option num_attention_heads (use attention_head_dim)");

  UNetConfig c;
  read(j, "in_channels", c.in_channels, source);
  read(j, "out_channels", c.out_channels, source);
  read(j, "block_out_channels", c.block_out_channels, source);
  read(j, "down_block_types", c.down_block_types, source);
  read(j, "up_block_types", c.up_block_types, source);
  read(j, "layers_per_block", c.layers_per_block, source);
  read(j, "norm_num_groups", c.norm_num_groups, source);
  read(j, "norm_eps", c.norm_eps, source);
  read(j, "cross_attention_dim", c.cross_attention_dim, source);
  read_int_list(j, "attention_head_dim", c.attention_head_dim, source);
  read(j, "use_linear_projection", c.use_linear_projection, source);
  read(j, "flip_sin_to_cos", c.flip_sin_to_cos, source);
  read(j, "freq_shift", c.freq_shift, source);
  if (j.contains("transformer_layers_per_block") && !j["transformer_layers_per_block"].is_number_integer())
    throw Error::input(source, "unsupported diffusers option transformer_layers_per_block per level");
  read(j, "transformer_layers_per_block", c.transformer_layers_per_block, source);
  if (j.contains("layers_per_block") && !j["layers_per_block"].is_number_integer())
    throw Error::input(source, "unsupported diffusers option layers_per_block per level");
  try {
    c.validate();
  } catch (const Error& e) {
    throw Error::input(source, e.reason());
  }
  return c;
}

AutoencoderConfig vae_config_from_diffusers(const std::string& text, const std::string& source) {
  json j = parse(text, source);
  if (j.contains("_class_name") && j["_class_name"] != "AutoencoderKL")
    throw Error::input(source, "not an AutoencoderKL config (" + j["_class_name"].dump() + ")");
  require(j, "act_fn", "silu", source);
  require(j, "use_quant_conv", true, source);
  require(j, "use_post_quant_conv", true, source);
  require(j, "mid_block_add_attention", true, source);
  require_absent(j, "shift_factor", source);
  require_absent(j, "latents_mean", source);
  for (const char* key : {"down_block_types", "up_block_types"}) {
    auto it = j.find(key);
    if (it == j.end()) continue;
    const std::string expected = std::string(key) == "down_block_types" ? "DownEncoderBlock2D" : "UpDecoderBlock2D";
    for (const auto& t : *it)
      if (t != expected) throw Error::input(source, std::string("unsupported ") + key + " entry " + t.dump());
  }
  AutoencoderConfig c;
  read(j, "in_channels", c.in_channels, source);
  read(j, "out_channels", c.out_channels, source);
  read(j, "latent_channels", c.latent_channels, source);
  read(j, "block_out_channels", c.block_out_channels, source);
  read(j, "layers_per_block", c.layers_per_block, source);
  read(j, "norm_num_groups", c.norm_num_groups, source);
  read(j, "scaling_factor", c.scaling_factor, source);
  try {
    c.validate();
  } catch (const Error& e) {
    throw Error::input(source, e.reason());
  }
  return c;
}

}  // namespace thg::nn
