// The synthetic world: visemes and coarticulation, the renderer, sentences and dataset files.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <set>

#include "eval/metrics.h"
#include "fake_speech.h"
#include "io/video_reader.h"
#include "synth/dataset.h"
#include "synth/face.h"
#include "synth/render.h"
#include "synth/sentences.h"
#include "test_util.h"

namespace thg {
namespace {

using synth::MouthShape;
using synth::PhonemeEvent;

TEST(Visemes, IpaLettersDropStressLengthAndDiacritics) {
  EXPECT_EQ(synth::ipa_letters("ˈaɪ"), std::u32string(U"aɪ"));
  EXPECT_EQ(synth::ipa_letters("ɔ̃"), std::u32string(U"ɔ"));
  EXPECT_EQ(synth::ipa_letters("uː"), std::u32string(U"u"));
  EXPECT_EQ(synth::ipa_letters(""), std::u32string());
  EXPECT_EQ(synth::ipa_letters("\xff\xfe"), std::u32string());  // invalid UTF-8 is skipped, not a crash
}

TEST(Visemes, ClosuresCloseVowelsOpenRoundingRounds) {
  EXPECT_EQ(synth::viseme_for(U'p').shape.open, 0.0);
  EXPECT_EQ(synth::viseme_for(U'm').shape.open, 0.0);
  EXPECT_GT(synth::viseme_for(U'a').shape.open, 0.8);
  EXPECT_GT(synth::viseme_for(U'u').shape.round, 0.8);
  EXPECT_GT(synth::viseme_for(U'i').shape.width, 0.8);
  EXPECT_GT(synth::viseme_for(U'p').dominance, synth::viseme_for(U't').dominance);
}

TEST(Visemes, MouthTrackFollowsPhonemesWithCoarticulation) {
  // 100 ms per phoneme at 100 fps: silence, "a", "p" (short), "a", "t" (short), "a", silence.
  const std::vector<PhonemeEvent> ph = {{0.2, "a"}, {0.4, "p"}, {0.46, "a"}, {0.66, "t"}, {0.72, "a"}, {0.92, ""}};
  const auto track = synth::mouth_track(ph, 1.2, 120, 100.0);
  ASSERT_EQ(track.size(), 120u);
  EXPECT_LT(track[2].open, 0.05);     // rest before speech
  EXPECT_LT(track[118].open, 0.05);   // and after
  EXPECT_GT(track[30].open, 0.85);    // inside the first "a"
  // The 60 ms /p/ still (almost) closes the mouth: lip closure dominates its neighbours...
  EXPECT_LT(track[43].open, 0.25);
  // ...while the 60 ms /t/ (low dominance) lets the jaw stay open between the vowels.
  EXPECT_GT(track[69].open, 0.5);
  for (size_t i = 1; i < track.size(); ++i) EXPECT_LT(std::abs(track[i].open - track[i - 1].open), 0.25) << i;
}

TEST(Renderer, DeterministicPerSeedAndDifferentAcrossIdentities) {
  const int s = 64;
  std::vector<uint8_t> a(s * s * 3), b(s * s * 3), c(s * s * 3);
  synth::render_portrait(synth::random_identity(7), s, a.data());
  synth::render_portrait(synth::random_identity(7), s, b.data());
  synth::render_portrait(synth::random_identity(8), s, c.data());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(Renderer, MeasuredMouthOpeningTracksTheMouthParameter) {
  // The lip-sync metric measures opening on pixels; on rendered frames it must follow the
  // renderer's own parameter closely, for any identity, pose and size.
  for (int size : {128, 256}) {
    std::vector<double> param, measured;
    for (uint64_t id = 0; id < 6; ++id) {
      const synth::FaceIdentity face = synth::random_identity(id);
      for (int k = 0; k <= 10; ++k) {
        MouthShape m = synth::rest_mouth();
        m.open = k / 10.0;
        m.width = 0.3 + 0.05 * static_cast<double>((k * 7) % 10);
        synth::HeadPose pose;
        pose.dx = 0.01 * std::sin(k + id);
        pose.dy = 0.02 * m.open;
        pose.roll = 0.03 * std::cos(k);
        at::Tensor frame = at::empty({1, size, size, 3}, at::kByte);
        synth::render_frame(face, pose, m, size, frame.data_ptr<uint8_t>());
        const synth::PixelBox box = synth::mouth_box(face, pose, size);
        at::Tensor boxes = at::tensor(std::vector<int64_t>{box.x0, box.y0, box.x1, box.y1}).view({1, 4});
        param.push_back(m.open);
        measured.push_back(eval::mouth_opening(frame, boxes)[0]);
      }
    }
    EXPECT_GT(eval::pearson(param, measured), 0.95) << size;
  }
}

TEST(Sentences, ManyPerLanguageATenthHeldOutDeterministic) {
  EXPECT_GE(synth::languages().size(), 5u);
  for (const auto& l : synth::languages()) {
    const int64_t n = synth::sentence_count(l.code);
    EXPECT_GE(n, 1000) << l.code;
    int64_t held = 0;
    for (int64_t i = 0; i < n; ++i) held += synth::sentence_held_out(l.code, i) ? 1 : 0;
    EXPECT_GT(held, n / 20) << l.code;
    EXPECT_LT(held, n / 6) << l.code;
    EXPECT_EQ(synth::sentence(l.code, 5), synth::sentence(l.code, 5));
    EXPECT_NE(synth::sentence(l.code, 5), synth::sentence(l.code, 6));
  }
  test::expect_input_error([] { synth::language("xx"); }, "", "unknown language 'xx'");
}

TEST(Dataset, SplitsSeparateIdentitiesAndSentences) {
  const std::vector<std::string> langs = {"en", "de", "fr"};
  std::set<uint64_t> train_ids;
  for (int64_t i = 0; i < 200; ++i) {
    const synth::ClipSpec c = synth::clip_spec(1, "train", i, langs);
    train_ids.insert(c.identity_seed);
    EXPECT_FALSE(synth::sentence_held_out(c.language, c.sentence));
  }
  for (int64_t i = 0; i < 50; ++i) {
    const synth::ClipSpec c = synth::clip_spec(1, "test", i, langs);
    EXPECT_FALSE(train_ids.count(c.identity_seed));
    EXPECT_TRUE(synth::sentence_held_out(c.language, c.sentence));
  }
  EXPECT_EQ(synth::clip_spec(1, "train", 3, langs).text, synth::clip_spec(1, "train", 3, langs).text);
}

TEST(Dataset, WritesCompleteClipsAndManifestsAndResumes) {
  test::ScratchDir dir;
  test::FakeSpeech speech;
  synth::DatasetOptions o;
  o.output = dir.path() / "ds";
  o.train_clips = 2;
  o.test_clips = 1;
  o.size = 64;
  o.threads = 2;
  const synth::DatasetSummary first = synth::make_dataset(o, speech);
  EXPECT_EQ(first.clips, 3);
  EXPECT_EQ(first.skipped, 0);
  const auto train = synth::read_dataset_manifest(o.output / "train.jsonl");
  const auto test = synth::read_dataset_manifest(o.output / "test.jsonl");
  ASSERT_EQ(train.size(), 2u);
  ASSERT_EQ(test.size(), 1u);
  for (const auto& clip : train) {
    const at::Tensor frames = io::read_video_frames(clip.video, {64, 10000});
    const auto mouth = synth::read_mouth_track(clip.mouth);
    EXPECT_EQ(frames.size(0), static_cast<int64_t>(mouth.size()));
    EXPECT_TRUE(std::filesystem::exists(clip.portrait));
    EXPECT_TRUE(std::filesystem::exists(clip.audio));
    double max_open = 0;
    for (const auto& row : mouth) max_open = std::max(max_open, row.shape.open);
    EXPECT_GT(max_open, 0.5);  // the fake speech has vowels
  }
  const std::string video_bytes = test::read_file(train[0].video);
  const synth::DatasetSummary second = synth::make_dataset(o, speech);
  EXPECT_EQ(second.skipped, 3);
  EXPECT_EQ(test::read_file(train[0].video), video_bytes);
}

TEST(Dataset, BadManifestRowsNameTheLine) {
  test::ScratchDir dir;
  test::write_file(dir / "m.jsonl", "{\"id\": \"a\", \"portrait\": \"p.png\", \"audio\": \"a.wav\", \"ground_truth\": \"v.mp4\"}\n{broken\n");
  test::expect_input_error([&] { synth::read_dataset_manifest(dir / "m.jsonl"); }, (dir / "m.jsonl").string() + ":2",
                           "bad dataset row");
}

}  // namespace
}  // namespace thg
