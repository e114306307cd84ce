// The model: built from YAML, diffusers parameter names, shapes, deterministic init, strict
// save/load.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
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
  for (const char* name : {"configs/pixel-latent.yaml", "configs/tiny.yaml"}) {
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
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string yaml = base;
    const size_t at = yaml.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return at == std::string::npos ? yaml : yaml.replace(at, from.size(), to);
  };
  expect_config_error(replaced("reference_residual: false", "reference_residual: true"),
                      "reference_residual needs scheduler.prediction_type: sample");
  expect_config_error(replaced("decode: direct", "decode: pixels"), "generation.decode must be direct or reference_delta");
  expect_config_error("{{{", "not valid YAML");
  expect_config_error("- 1\n- 2\n", "mapping");
  // Found by fuzz/fuzz_model_config: a complex key made yaml-cpp throw past every check.
  expect_config_error(test::read_file(test::source_root() / "fuzz/corpus/model_config/regression-complex-key.yaml"),
                      "keys must be plain names");
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
           "reference_encoder.proj.weight",
           "unet.down_blocks.1.attentions.0.transformer_blocks.0.audio_attn.to_out.0.weight",
           "unet.down_blocks.1.attentions.0.transformer_blocks.0.temporal.attn.to_q.weight",
           "unet.down_blocks.1.attentions.0.transformer_blocks.0.temporal.pos_embed",
       })
    EXPECT_TRUE(names.count(expected)) << expected;
  EXPECT_FALSE(names.count("unet.down_blocks.0.attentions.0.norm.weight")) << "DownBlock2D has no attention";
}

struct TinyInputs {
  at::Tensor ref, ref_tokens, windows, tokens, x, t;
};

TinyInputs tiny_inputs(const model::TalkingHeadModel& m, int64_t frames) {
  const auto& cfg = m.config();
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(11);
  TinyInputs in;
  in.ref = m.encode_images(at::rand({1, 3, cfg.image_size, cfg.image_size}, g));
  in.ref_tokens = m.reference_tokens(in.ref);
  in.windows = at::randn({frames, cfg.audio.mel.n_mels, m.audio_window()}, g);
  in.tokens = m.audio_tokens(in.windows);
  const int64_t lat = cfg.latent_size(cfg.image_size);
  in.x = at::randn({frames, 4, lat, lat}, g);
  in.t = at::full({frames}, 500.0);
  return in;
}

TEST(Model, ForwardShapesAndDeterministicInit) {
  c10::InferenceMode guard;
  auto a = model::TalkingHeadModel::random(tiny(), 42);
  auto b = model::TalkingHeadModel::random(tiny(), 42);
  const auto& cfg = a->config();
  TinyInputs in = tiny_inputs(*a, 3);
  const int64_t lat = cfg.latent_size(cfg.image_size);
  ASSERT_EQ(in.ref.sizes(), (std::vector<int64_t>{1, 4, lat, lat}));
  ASSERT_EQ(in.ref_tokens.sizes(), (std::vector<int64_t>{1, (lat / 2) * (lat / 2), cfg.reference.dim}));
  ASSERT_EQ(in.tokens.sizes(), (std::vector<int64_t>{3, a->audio_window(), cfg.audio.dim}));
  at::Tensor out = a->denoise(in.x, in.t, in.ref, in.ref_tokens, in.tokens, 3);
  ASSERT_EQ(out.sizes(), in.x.sizes());
  EXPECT_TRUE(at::equal(out, b->denoise(in.x, in.t, in.ref, b->reference_tokens(in.ref), b->audio_tokens(in.windows), 3)));
  at::Tensor frames = a->decode_latents(in.x);
  ASSERT_EQ(frames.sizes(), (std::vector<int64_t>{3, 3, cfg.image_size, cfg.image_size}));
  auto c = model::TalkingHeadModel::random(tiny(), 43);
  EXPECT_FALSE(at::equal(out, c->denoise(in.x, in.t, in.ref, in.ref_tokens, in.tokens, 3)));
}

// The added conditioning (audio cross-attention, temporal attention) starts as the identity: its
// output projections are zero-initialised, so a fresh model ignores audio and frame grouping...
TEST(Model, AddedConditioningStartsAsIdentity) {
  c10::InferenceMode guard;
  auto m = model::TalkingHeadModel::random(tiny(), 5);
  TinyInputs in = tiny_inputs(*m, 4);
  at::Tensor base = m->denoise(in.x, in.t, in.ref, in.ref_tokens, in.tokens, 4);
  at::Tensor other_audio = m->denoise(in.x, in.t, in.ref, in.ref_tokens, in.tokens.flip(0) * 3, 4);
  at::Tensor per_frame = m->denoise(in.x, in.t, in.ref, in.ref_tokens, in.tokens, 1);
  EXPECT_TRUE(at::allclose(base, other_audio, 0, 0)) << "fresh audio attention must be a no-op";
  EXPECT_TRUE(at::allclose(base, per_frame, 0, 0)) << "fresh temporal attention must be a no-op";

  // ...and once those projections are non-zero, both paths do change the output.
  for (auto& [name, t] : m->named_parameters())
    if (name.find("audio_attn.to_out.0.weight") != std::string::npos ||
        name.find("temporal.attn.to_out.0.weight") != std::string::npos)
      t->normal_(0.0, 0.5);
  base = m->denoise(in.x, in.t, in.ref, in.ref_tokens, in.tokens, 4);
  EXPECT_FALSE(at::allclose(base, m->denoise(in.x, in.t, in.ref, in.ref_tokens, in.tokens.flip(0) * 3, 4)));
  EXPECT_FALSE(at::allclose(base, m->denoise(in.x, in.t, in.ref, in.ref_tokens, in.tokens, 1)));
  // Temporal attention only mixes frames within a group: the first 2 frames of a 2+2 grouping do
  // not depend on the last two.
  at::Tensor grouped = m->denoise(in.x, in.t, in.ref, in.ref_tokens, in.tokens, 2);
  at::Tensor changed_x = in.x.clone();
  changed_x.slice(0, 2, 4).normal_();
  at::Tensor grouped2 = m->denoise(changed_x, in.t, in.ref, in.ref_tokens, in.tokens, 2);
  EXPECT_TRUE(at::allclose(grouped.slice(0, 0, 2), grouped2.slice(0, 0, 2), 1e-5, 1e-6));
  EXPECT_FALSE(at::allclose(grouped.slice(0, 2, 4), grouped2.slice(0, 2, 4)));
}

model::ModelConfig tiny_residual() {
  model::ModelConfig c = tiny();
  c.reference_residual = true;
  c.scheduler.prediction_type = "sample";
  return c;
}

// reference_residual: a fresh model predicts the reference latent itself for any noisy input (its
// output convolution starts at zero), and a trained one adds the reference to what the plain UNet
// computes; a dropped (zero) reference adds nothing.
TEST(Model, ReferenceResidualPredictsThePortraitPlusTheUnetsChange) {
  c10::InferenceMode guard;
  auto residual = model::TalkingHeadModel::random(tiny_residual(), 9);
  TinyInputs in = tiny_inputs(*residual, 3);
  at::Tensor fresh = residual->denoise(in.x, in.t, in.ref, in.ref_tokens, in.tokens, 3);
  EXPECT_TRUE(at::equal(fresh, in.ref.expand_as(fresh))) << "a fresh residual model must return the reference";
  at::Tensor other_noise = residual->denoise(in.x * -2.0, in.t * 0.1, in.ref, in.ref_tokens, in.tokens, 3);
  EXPECT_TRUE(at::equal(other_noise, fresh));

  // The same weights, with a non-zero output convolution, in a plain model.
  auto plain = model::TalkingHeadModel::random(tiny(), 9);
  auto from = residual->named_parameters();
  auto to = plain->named_parameters();
  ASSERT_EQ(from.size(), to.size());
  residual->unet.conv_out.weight.normal_(0.0, 0.1);
  residual->unet.conv_out.bias.normal_(0.0, 0.1);
  for (size_t i = 0; i < from.size(); ++i) to[i].second->copy_(*from[i].second);
  at::Tensor with_ref = residual->denoise(in.x, in.t, in.ref, in.ref_tokens, in.tokens, 3);
  at::Tensor unet_only = plain->denoise(in.x, in.t, in.ref, in.ref_tokens, in.tokens, 3);
  EXPECT_FALSE(at::allclose(unet_only, at::zeros_like(unet_only)));
  EXPECT_TRUE(at::allclose(with_ref - in.ref, unet_only, 1e-5, 1e-6));
  at::Tensor no_ref = at::zeros_like(in.ref);
  EXPECT_TRUE(at::equal(residual->denoise(in.x, in.t, no_ref, in.ref_tokens, in.tokens, 3),
                        plain->denoise(in.x, in.t, no_ref, in.ref_tokens, in.tokens, 3)));
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
