// The model: built from YAML, diffusers parameter names, shapes, deterministic init, strict
// save/load.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <set>

#include "core/error.h"
#include "io/safetensors.h"
#include "model/talking_head.h"
#include "test_util.h"

namespace thg {
namespace {

model::ModelConfig tiny() { return model::load_model_config(test::source_root() / "configs/tiny.yaml"); }

TEST(ModelConfig, BundledConfigsParseAndRoundTrip) {
  for (const char* name : {"configs/default.yaml", "configs/tiny.yaml"}) {
    model::ModelConfig c = model::load_model_config(test::source_root() / name);
    model::ModelConfig again = model::parse_model_config(model::to_yaml(c), "roundtrip");
    EXPECT_EQ(model::to_yaml(again), model::to_yaml(c)) << name;
  }
}

void expect_config_error(const std::string& yaml, const std::string& needle) {
  try {
    model::parse_model_config(yaml, "bad.yaml");
    ADD_FAILURE() << "accepted: " << yaml;
  } catch (const Error& e) {
    EXPECT_EQ(e.file(), "bad.yaml");
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(ModelConfig, RejectsTyposWrongTypesAndInconsistency) {
  const std::string base = model::to_yaml(tiny());
  expect_config_error(base + "imag_size: 64\n", "unknown key 'imag_size'");
  expect_config_error("image_size: [1, 2]\n", "wrong type");
  expect_config_error("unet: {in_channels: 4}\n", "unet.in_channels must be 2 x");
  expect_config_error("{{{", "not valid YAML");
  expect_config_error("- 1\n- 2\n", "mapping");
}

TEST(Model, UsesDiffusersParameterNames) {
  auto m = model::TalkingHeadModel::random(tiny(), 0);
  std::set<std::string> names;
  for (auto& [n, t] : m->named_parameters()) names.insert(n);
  for (const char* expected : {
           "unet.conv_in.weight",
           "unet.time_embedding.linear_1.weight",
           "unet.down_blocks.0.resnets.0.norm1.weight",
           "unet.down_blocks.0.downsamplers.0.conv.weight",
           "unet.down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q.weight",
           "unet.down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight",
           "unet.down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_out.0.bias",
           "unet.down_blocks.1.attentions.0.transformer_blocks.0.ff.net.0.proj.weight",
           "unet.down_blocks.1.attentions.0.transformer_blocks.0.ff.net.2.weight",
           "unet.mid_block.attentions.0.proj_in.weight",
           "unet.up_blocks.0.resnets.1.conv_shortcut.weight",
           "unet.up_blocks.0.upsamplers.0.conv.weight",
           "unet.conv_norm_out.weight",
           "vae.encoder.mid_block.attentions.0.group_norm.weight",
           "vae.encoder.mid_block.attentions.0.to_q.bias",
           "vae.decoder.up_blocks.0.upsamplers.0.conv.weight",
           "vae.quant_conv.weight",
           "vae.post_quant_conv.weight",
           "audio_encoder.pos_embed",
       })
    EXPECT_TRUE(names.count(expected)) << expected;
  EXPECT_FALSE(names.count("unet.down_blocks.0.attentions.0.norm.weight")) << "DownBlock2D has no attention";
}

TEST(Model, ForwardShapesAndDeterministicInit) {
  c10::InferenceMode guard;
  auto a = model::TalkingHeadModel::random(tiny(), 42);
  auto b = model::TalkingHeadModel::random(tiny(), 42);
  const auto& cfg = a->config();
  at::Tensor image = at::rand({1, 3, cfg.image_size, cfg.image_size});
  at::Tensor ref = a->encode_images(image);
  const int64_t lat = cfg.latent_size(cfg.image_size);
  ASSERT_EQ(ref.sizes(), (std::vector<int64_t>{1, 4, lat, lat}));
  at::Tensor windows = at::randn({3, cfg.audio.mel.n_mels, a->audio_window()});
  at::Tensor tokens = a->audio_tokens(windows);
  ASSERT_EQ(tokens.sizes(), (std::vector<int64_t>{3, a->audio_window(), cfg.audio.dim}));
  at::Tensor x = at::randn({3, 4, lat, lat});
  at::Tensor out = a->denoise(x, at::full({3}, 500.0), ref, tokens);
  ASSERT_EQ(out.sizes(), x.sizes());
  EXPECT_TRUE(at::equal(out, b->denoise(x, at::full({3}, 500.0), ref, b->audio_tokens(windows))));
  at::Tensor frames = a->decode_latents(x);
  ASSERT_EQ(frames.sizes(), (std::vector<int64_t>{3, 3, cfg.image_size, cfg.image_size}));
  auto c = model::TalkingHeadModel::random(tiny(), 43);
  EXPECT_FALSE(at::equal(out, c->denoise(x, at::full({3}, 500.0), ref, tokens)));
}

TEST(Model, SaveLoadRoundTrip) {
  c10::InferenceMode guard;
  test::ScratchDir dir;
  auto a = model::TalkingHeadModel::random(tiny(), 1);
  a->save(dir / "m.safetensors", at::kFloat);
  auto b = model::TalkingHeadModel::load(dir / "m.safetensors");
  auto pa = a->named_parameters(), pb = b->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) {
    ASSERT_EQ(pa[i].first, pb[i].first);
    ASSERT_TRUE(at::equal(*pa[i].second, *pb[i].second)) << pa[i].first;
  }
  // fp16 storage loads back within fp16 rounding.
  a->save(dir / "h.safetensors", at::kHalf);
  auto h = model::TalkingHeadModel::load(dir / "h.safetensors");
  at::Tensor w = *a->named_parameters()[0].second, wh = *h->named_parameters()[0].second;
  EXPECT_EQ(wh.scalar_type(), at::kFloat);
  EXPECT_LT((w - wh).abs().max().item<float>(), 1e-3f);
}

std::string load_error(const std::filesystem::path& path) {
  try {
    model::TalkingHeadModel::load(path);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput);
    return e.what();
  }
  return "";
}

TEST(Model, StrictLoadingNamesEveryProblem) {
  test::ScratchDir dir;
  auto m = model::TalkingHeadModel::random(tiny(), 1);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (auto& [n, t] : m->named_parameters()) tensors.emplace_back(n, *t);
  const std::map<std::string, std::string> meta{{"thg.format", "thg-model-1"}, {"thg.config", model::to_yaml(m->config())}};

  auto missing = tensors;
  missing.erase(missing.begin());
  io::write_safetensors(dir / "missing.safetensors", missing, meta);
  EXPECT_NE(load_error(dir / "missing.safetensors").find("1 missing: " + tensors[0].first), std::string::npos);

  auto extra = tensors;
  extra.emplace_back("unet.bogus.weight", at::zeros({2}));
  io::write_safetensors(dir / "extra.safetensors", extra, meta);
  EXPECT_NE(load_error(dir / "extra.safetensors").find("1 unexpected: unet.bogus.weight"), std::string::npos);

  auto shaped = tensors;
  shaped[0].second = at::zeros({1, 2, 3});
  io::write_safetensors(dir / "shape.safetensors", shaped, meta);
  EXPECT_NE(load_error(dir / "shape.safetensors").find("mis-shaped: " + tensors[0].first + " [1, 2, 3]"),
            std::string::npos);

  auto nan = tensors;
  nan[0].second = at::full(tensors[0].second.sizes(), NAN);
  io::write_safetensors(dir / "nan.safetensors", nan, meta);
  EXPECT_NE(load_error(dir / "nan.safetensors").find("NaN"), std::string::npos);

  io::write_safetensors(dir / "nometa.safetensors", tensors);
  EXPECT_NE(load_error(dir / "nometa.safetensors").find("not a THG model file"), std::string::npos);
}

}  // namespace
}  // namespace thg
