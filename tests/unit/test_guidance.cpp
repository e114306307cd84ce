// Classifier-free guidance with separate reference and audio scales.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <cmath>

#include "audio/mel.h"
#include "core/pixels.h"
#include "io/audio.h"
#include "io/image.h"
#include "io/media_writers.h"
#include "model/talking_head.h"
#include "engine/frame_noise.h"
#include "engine/generate.h"
#include "sched/guidance.h"
#include "sched/scheduler.h"
#include "test_util.h"

namespace thg {
namespace {

TEST(Guidance, MatchesTheTwoScaleFormula) {
  at::Tensor u = at::randn({2, 4, 3, 3}), r = at::randn({2, 4, 3, 3}), f = at::randn({2, 4, 3, 3});
  sched::GuidanceScales s{2.5, 4.0, 0.0};
  at::Tensor expected = u + 2.5 * (r - u) + 4.0 * (f - r);
  EXPECT_TRUE(at::allclose(sched::combine_guidance(u, r, f, s), expected, 1e-5, 1e-5));
}

TEST(Guidance, ScalesOfOneSkipBranches) {
  at::Tensor r = at::randn({2, 4}), f = at::randn({2, 4});
  auto none = sched::guidance_branches({1.0, 1.0, 0.0});
  EXPECT_EQ(none.count(), 1);
  EXPECT_TRUE(at::equal(sched::combine_guidance({}, {}, f, {1.0, 1.0, 0.7}), f));
  auto audio_only = sched::guidance_branches({1.0, 3.0, 0.0});
  EXPECT_FALSE(audio_only.uncond);
  EXPECT_TRUE(audio_only.reference);
  EXPECT_TRUE(at::allclose(sched::combine_guidance({}, r, f, {1.0, 3.0, 0.0}), r + 3.0 * (f - r)));
  EXPECT_EQ(sched::guidance_branches({2.0, 1.0, 0.0}).count(), 3);
}

TEST(Guidance, RescaleRestoresTheConditionalStd) {
  at::Tensor u = at::randn({3, 16}), r = at::randn({3, 16}), f = at::randn({3, 16});
  at::Tensor full_rescale = sched::combine_guidance(u, r, f, {3.0, 5.0, 1.0});
  EXPECT_TRUE(at::allclose(full_rescale.std(1), f.std(1), 1e-4, 1e-5));
  at::Tensor none = sched::combine_guidance(u, r, f, {3.0, 5.0, 0.0});
  at::Tensor half = sched::combine_guidance(u, r, f, {3.0, 5.0, 0.5});
  EXPECT_TRUE(at::allclose(half, 0.5 * none + 0.5 * full_rescale, 1e-5, 1e-5));
}

// diffusers' rescale_noise_cfg takes the std over every dimension but the batch, per sample. On
// 4-D latents with channels of very different scales, a per-channel std (a plausible slip) gives
// other values, and this test fails on it.
TEST(Guidance, RescaleUsesOneStdPerSampleOn4DLatents) {
  const at::Tensor channel_scale = at::tensor({0.2f, 1.0f, 3.0f, 8.0f}).view({1, 4, 1, 1});
  at::Tensor u = at::randn({2, 4, 6, 6}) * channel_scale, r = at::randn({2, 4, 6, 6}) * channel_scale,
             f = at::randn({2, 4, 6, 6}) * channel_scale + 1.5;
  const sched::GuidanceScales s{3.0, 5.0, 1.0};
  const at::Tensor out = sched::combine_guidance(u, r, f, s);
  const at::Tensor guided = sched::combine_guidance(u, r, f, {3.0, 5.0, 0.0});
  for (int64_t b = 0; b < 2; ++b) {
    // rescale 1: guided * std(full[b]) / std(guided[b]), one factor for the whole sample.
    const at::Tensor expected = guided[b] * (f[b].std() / guided[b].std());
    EXPECT_TRUE(at::allclose(out[b], expected, 1e-4, 1e-5)) << "sample " << b;
  }
}

TEST(Guidance, RejectsBadScales) {
  test::expect_input_error([] { sched::GuidanceScales{-1, 1, 0}.validate(); }, "", "between 0 and 30");
  test::expect_input_error([] { sched::GuidanceScales{1, 1, 2}.validate(); }, "", "--guidance-rescale");
}

// End to end: generation batches the guidance branches through one UNet forward and splits the
// result. Each branch is recomputed here on its own with its own conditioning (unconditional: no
// reference, no audio; reference only; full) and combined with the documented formula; the video
// must match that, and not the same with the unconditional and reference-only branches swapped.
TEST(Guidance, GenerationCombinesEachBranchInItsRole) {
  test::ScratchDir dir;
  test::write_mono_wav(dir / "speech.wav", 0.4, [](double t) {  // 10 frames at 25 fps
    return 0.4 * std::sin(2 * M_PI * 170.0 * t) * (0.5 + 0.5 * std::sin(2 * M_PI * 4.0 * t));
  });
  auto model = model::TalkingHeadModel::load(test::conditioned_tiny_model(dir.path()));
  const model::ModelConfig& cfg = model->config();
  pipeline::GenerateOptions o;
  o.placement.crop = false;  // test media are not photos of faces
  o.portrait = test::data("media/rgb8.png");
  o.audio = dir / "speech.wav";
  o.output = dir / "out.mp4";
  o.sampler = "euler";
  o.steps = 1;
  o.seed = 5;
  o.guidance_reference = 3.0;
  o.guidance_audio = 2.0;
  o.guidance_rescale = 0.0;
  o.decode = "direct";
  o.chunk_frames = 10;
  o.progress = false;
  at::Tensor generated;  // the exact frames, before the video encoder
  o.on_rgb_frames = [&](const at::Tensor& frames, int64_t first) {
    ASSERT_EQ(first, 0) << "one chunk expected";
    generated = frames.clone();
  };
  pipeline::generate(*model, o);
  const int64_t size = cfg.image_size, n = 10;
  ASSERT_TRUE(generated.defined());
  ASSERT_EQ(generated.size(0), n);

  // The same step, branch by branch.
  c10::InferenceMode inference;
  io::ImageLoadOptions image;
  image.size = static_cast<int>(size);
  const at::Tensor portrait = io::load_image(o.portrait, image).unsqueeze(0);
  const io::AudioBuffer mono = io::resample(io::decode_audio(o.audio), cfg.audio.mel.sample_rate, 1);
  const at::Tensor mel = audio::log_mel(mono.samples, cfg.audio.mel);
  const at::Tensor audio_tokens = model->audio_tokens(
      audio::frame_windows_at(mel, 0, n, cfg.generation.fps, model->audio_window(), cfg.audio.mel, mel.min().item<double>()));
  const at::Tensor ref = model->encode_images(portrait), ref_tokens = model->reference_tokens(ref);
  auto scheduler = sched::make_scheduler("euler", {cfg.scheduler, 0.0, false, cfg.generation.flow_shift});
  scheduler->set_timesteps(1);
  const int64_t latent = cfg.latent_size(size);
  std::vector<at::Tensor> noise;
  for (int64_t f = 0; f < n; ++f) noise.push_back(pipeline::frame_noise(o.seed, f, {cfg.vae.latent_channels, latent, latent}));
  const auto options = at::TensorOptions().device(model->device()).dtype(model->dtype());
  const at::Tensor x = (at::stack(noise) * scheduler->init_noise_sigma()).to(options);
  const at::Tensor x_in = scheduler->scale_model_input(x, 0);
  const at::Tensor t = at::full({n}, scheduler->timesteps()[0], options);
  auto branch = [&](bool with_reference, bool with_audio) {
    const at::Tensor l = ref.expand({n, -1, -1, -1}), k = ref_tokens.expand({n, -1, -1});
    return model->denoise(x_in, t, with_reference ? l : at::zeros_like(l), with_reference ? k : at::zeros_like(k),
                          with_audio ? audio_tokens : at::zeros_like(audio_tokens), n);
  };
  const at::Tensor uncond = branch(false, false), ref_only = branch(true, false), full = branch(true, true);
  const sched::GuidanceScales scales{3.0, 2.0, 0.0};
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(1);
  auto frames_from = [&](const at::Tensor& u, const at::Tensor& r) {
    const at::Tensor next = scheduler->step(sched::combine_guidance(u, r, full, scales), 0, x, sched::gaussian_noise(gen));
    return frames_to_rgb8(model->decode_latents(next)).to(at::kFloat);
  };
  const at::Tensor got = generated.to(at::kFloat);
  // One batched forward against three separate ones: equal up to float rounding, which may move a
  // pixel by one level after quantisation.
  const double to_correct = (got - frames_from(uncond, ref_only)).abs().mean().item<double>();
  const double to_swapped = (got - frames_from(ref_only, uncond)).abs().mean().item<double>();
  std::printf("mean pixel difference: to the branches in their roles %.4f, with two swapped %.4f\n", to_correct,
              to_swapped);
  EXPECT_LT(to_correct, 0.02);
  EXPECT_GT(to_swapped, 10.0 * to_correct + 0.2);
}

}  // namespace
}  // namespace thg
