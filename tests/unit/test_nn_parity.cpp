// Parity with diffusers: our UNet2DConditionModel and AutoencoderKL, given the weights and inputs of
// diffusers' models (tests/reference/nn_reference.py, random weights, small configs including
// SD1.5's block layout), must reproduce diffusers' outputs in float32 to a max relative error
// (max|ours - theirs| / max|theirs|) of 1e-4. The measured errors are printed.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include "io/safetensors.h"
#include "model/talking_head.h"
#include "model/weights.h"
#include "nn/attention.h"
#include "nn/diffusers_config.h"
#include "test_util.h"

namespace thg {
namespace {

constexpr double kTolerance = 1e-4;

class NnParity : public ::testing::Test {
 public:
  void SetUp() override {
    dir_ = test::reference_data("nn");
    if (dir_.empty()) GTEST_SKIP() << "no reference Python (torch + diffusers) configured for this build";
  }
  io::SafetensorsFile open(const std::string& name) { return io::SafetensorsFile::open(dir_ / (name + ".safetensors")); }
  static void report(const std::string& what, double error) {
    std::printf("[parity] %-40s max relative error %.3g (bound %.0e)\n", what.c_str(), error, kTolerance);
    EXPECT_LT(error, kTolerance) << what;
  }

  std::filesystem::path dir_;
};

void check_unet(io::SafetensorsFile file, const std::string& name) {
  c10::InferenceMode guard;
  nn::UNetConfig config = nn::unet_config_from_diffusers(file.metadata().at("config"), name);
  nn::UNet2DConditionModel unet(config);
  model::load_parameters(unet, file, "model.");
  const at::Tensor sample = file.load("in.sample"), timesteps = file.load("in.timesteps"),
                   context = file.load("in.context"), expected = file.load("out.sample");
  for (auto backend : {nn::AttentionBackend::Math, nn::AttentionBackend::Sdpa}) {
    nn::set_attention_backend(backend);
    at::Tensor out = unet.forward(sample, timesteps, context);
    ASSERT_EQ(out.sizes(), expected.sizes());
    NnParity::report(name + " (" + nn::attention_backend_name(backend) + ")", test::max_relative_error(out, expected));
  }
  nn::set_attention_backend(nn::AttentionBackend::Auto);
  // Reduced precision on the CPU: same weights cast to bfloat16, loose bound (8 mantissa bits).
  unet.to(at::kCPU, at::kBFloat16);
  at::Tensor bf = unet.forward(sample.to(at::kBFloat16), timesteps, context.to(at::kBFloat16));
  const double bf_error = test::max_relative_error(bf, expected);
  // bfloat16 keeps 8 bits of mantissa (relative step 2^-8 = 0.004); through a UNet the measured
  // error is 0.012-0.014, so 3e-2 leaves room for other machines and still catches a wrong cast.
  std::printf("[parity] %-40s max relative error %.3g (bound 3e-2)\n", (name + " (bfloat16)").c_str(), bf_error);
  EXPECT_LT(bf_error, 3e-2);
}

TEST_F(NnParity, UNetSmall) { check_unet(open("unet_small"), "unet_small"); }
TEST_F(NnParity, UNetSd15Layout) { check_unet(open("unet_sd15_layout"), "unet_sd15_layout"); }
TEST_F(NnParity, UNetLinearProjection) { check_unet(open("unet_linear_proj"), "unet_linear_proj"); }

void check_vae(io::SafetensorsFile file, const std::string& name) {
  c10::InferenceMode guard;
  nn::AutoencoderConfig config = nn::vae_config_from_diffusers(file.metadata().at("config"), name);
  nn::AutoencoderKL vae(config);
  model::load_parameters(vae, file, "model.");
  const at::Tensor images = file.load("in.images"), latents = file.load("in.latents");
  NnParity::report(name + " encoder moments", test::max_relative_error(vae.encode_moments(images), file.load("out.moments")));
  NnParity::report(name + " posterior mean",
                   test::max_relative_error(vae.encode(images) / config.scaling_factor, file.load("out.mean")));
  // diffusers' decode takes unscaled latents; ours takes scaled ones.
  NnParity::report(name + " decode", test::max_relative_error(vae.decode(latents * config.scaling_factor),
                                                              file.load("out.decoded")));
}

TEST_F(NnParity, VaeSmall) { check_vae(open("vae_small"), "vae_small"); }
TEST_F(NnParity, VaeThreeLevels) { check_vae(open("vae_three_levels"), "vae_three_levels"); }

TEST_F(NnParity, ConvertImportsDiffusersFolders) {
  // save_pretrained folders of the same models -> one THG parts file -> the same outputs.
  test::ScratchDir scratch;
  const auto out = scratch / "parts.safetensors";
  auto r = test::run_thg({"convert", "--unet", (dir_ / "unet_sd15_layout_diffusers").string(), "--vae",
                          (dir_ / "vae_small_diffusers").string(), "--output", out.string(), "--dtype", "float32"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  c10::InferenceMode guard;
  io::SafetensorsFile parts = io::SafetensorsFile::open(out);
  EXPECT_EQ(parts.metadata().at("thg.format"), "thg-parts-1");
  io::SafetensorsFile ref = open("unet_sd15_layout");
  nn::UNet2DConditionModel unet(nn::unet_config_from_diffusers(ref.metadata().at("config"), "config"));
  model::load_parameters(unet, parts, "unet.");
  report("convert: unet_sd15_layout", test::max_relative_error(unet.forward(ref.load("in.sample"), ref.load("in.timesteps"),
                                                                            ref.load("in.context")),
                                                               ref.load("out.sample")));
  // A folder without weights is a clean error.
  std::filesystem::create_directories(scratch / "empty_model");
  test::write_file(scratch / "empty_model" / "config.json", "{}");
  r = test::run_thg({"convert", "--unet", (scratch / "empty_model").string(), "--output", (scratch / "x.safetensors").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no diffusion_pytorch_model.safetensors"), std::string::npos) << r.err;
}

TEST(DiffusersConfig, RefusesOptionsWeDoNotCompute) {
  test::expect_input_error(
      [] { nn::unet_config_from_diffusers(R"({"class_embed_type": "timestep"})", "config.json"); }, "config.json",
      "unsupported diffusers option class_embed_type");
  test::expect_input_error(
      [] { nn::unet_config_from_diffusers(R"({"upcast_attention": true})", "config.json"); }, "config.json",
      "upcast_attention");
  test::expect_input_error(
      [] { nn::vae_config_from_diffusers(R"({"_class_name": "AutoencoderTiny"})", "config.json"); }, "config.json",
      "not an AutoencoderKL");
  test::expect_input_error([] { nn::unet_config_from_diffusers("[1]", "config.json"); }, "config.json", "JSON object");
}

}  // namespace
}  // namespace thg

namespace thg {
namespace {

// THG's talking-head additions against tests/reference/talking_head_reference.py, a PyTorch
// implementation written from the spec on top of diffusers' blocks. Same bound as above.
TEST(TalkingHeadParity, MatchesThePyTorchReference) {
  test::ScratchDir dir;
  const auto path = test::reference_data("talking_head.safetensors");
  if (path.empty()) GTEST_SKIP() << "no reference Python (torch + diffusers) configured for this build";
  c10::InferenceMode guard;
  // The reference file is a THG model file with extra in./out. tensors: load the model from a copy
  // without them (strict loading refuses unknown tensors).
  io::SafetensorsFile file = io::SafetensorsFile::open(path);
  std::vector<std::pair<std::string, at::Tensor>> weights;
  for (const auto& t : file.tensors())
    if (t.name.rfind("in.", 0) != 0 && t.name.rfind("out.", 0) != 0) weights.emplace_back(t.name, file.load(t));
  io::write_safetensors(dir / "model.safetensors", weights, file.metadata());
  auto m = model::TalkingHeadModel::load(dir / "model.safetensors");

  at::Tensor ref = m->encode_images(file.load("in.image"));
  NnParity::report("talking head: reference latent", test::max_relative_error(ref, file.load("out.reference")));
  at::Tensor ref_tokens = m->reference_tokens(ref);
  NnParity::report("talking head: reference tokens",
                   test::max_relative_error(ref_tokens, file.load("out.reference_tokens")));
  at::Tensor audio = m->audio_tokens(file.load("in.windows"));
  NnParity::report("talking head: audio tokens", test::max_relative_error(audio, file.load("out.audio_tokens")));
  at::Tensor out = m->denoise(file.load("in.noisy"), file.load("in.timesteps"), ref, ref_tokens, audio, 4);
  NnParity::report("talking head: UNet (2 groups x 4 frames)", test::max_relative_error(out, file.load("out.denoised")));
  at::Tensor decoded = m->decode_latents(file.load("in.noisy"));
  NnParity::report("talking head: decode", test::max_relative_error(decoded, file.load("out.decoded")));
}

}  // namespace
}  // namespace thg
