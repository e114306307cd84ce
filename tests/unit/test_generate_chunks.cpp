// Long audio is generated in chunks, and every chunk must start a fresh sampler trajectory: a
// multistep sampler that kept its previous outputs, or any other state carried from one chunk into
// the next, would make a chunk depend on what came before it.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "io/audio.h"
#include "io/media_writers.h"
#include "model/talking_head.h"
#include "engine/generate.h"
#include "sched/scheduler.h"
#include "test_util.h"

namespace thg {
namespace {

namespace fs = std::filesystem;

// 0.52 s (13 frames at 25 fps). The first 0.08 s is a quiet tone whose loudness is `opening`; the
// rest, identical in every variant, is louder (so the clip's loudest and quietest feature levels,
// which normalise the features, are the same) and has a silent gap. No frame from the sixth on has
// the opening within its audio window (+-2 frames), so only the first chunk of 5 frames hears it.
void write_clip(const fs::path& path, float opening) {
  test::write_mono_wav(path, 0.52, [opening](double t) {
    if (t < 0.08) return opening * std::sin(2 * M_PI * 220 * t);
    if (t < 0.30 || t >= 0.36) return 0.5 * std::sin(2 * M_PI * 180 * t) * (0.6 + 0.4 * std::sin(2 * M_PI * 5 * t));
    return 0.0;
  });
}

TEST(GenerateChunks, EverySamplerStartsEachChunkAfresh) {
  test::ScratchDir dir;
  write_clip(dir / "a.wav", 0.05f);
  write_clip(dir / "b.wav", 0.2f);
  fs::create_directories(dir / "eps");
  fs::create_directories(dir / "flow");
  auto eps_model = model::TalkingHeadModel::load(test::conditioned_tiny_model(dir / "eps"));
  // flow-euler needs a velocity (flow-matching) model.
  auto flow_model = model::TalkingHeadModel::load(
      // configs/tiny.yaml ends with its generation section: the first line appended joins it.
      test::conditioned_tiny_model(dir / "flow", "  sampler: flow-euler\nscheduler:\n  prediction_type: flow\n"));
  for (const auto& info : sched::samplers()) {
    const std::string name = info.name;
    SCOPED_TRACE(name);
    const model::TalkingHeadModel& model = name == "flow-euler" ? *flow_model : *eps_model;
    pipeline::GenerateOptions o;
    o.placement.crop = false;  // test media are not photos of faces
    o.portrait = test::data("media/rgb8.png");
    o.output = dir / (name + ".mp4");
    o.sampler = name;
    o.steps = 3;
    o.seed = 9;
    o.chunk_frames = 5;
    o.chunk_overlap = 0;  // hard cuts: each chunk's frames are its own
    o.audio = dir / "a.wav";
    const at::Tensor a = test::generated_frames(model, o);
    o.audio = dir / "b.wav";
    const at::Tensor b = test::generated_frames(model, o);
    ASSERT_EQ(a.size(0), 13);
    ASSERT_EQ(b.size(0), 13);
    EXPECT_FALSE(a.slice(0, 0, 5).equal(b.slice(0, 0, 5))) << "the first chunk must hear the opening";
    EXPECT_TRUE(a.slice(0, 5).equal(b.slice(0, 5))) << "a later chunk depends on the chunk before it";
  }
}

}  // namespace
}  // namespace thg
