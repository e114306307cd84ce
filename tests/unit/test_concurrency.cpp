// Requests in one process: each generation carries its own attention backend and cancellation
// token, so a server can run two at once, stop one, and leave the other exactly as it would be
// alone.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/cancel.h"
#include "core/error.h"
#include "io/frame_sink.h"
#include "model/talking_head.h"
#include "nn/attention.h"
#include "engine/generate.h"
#include "test_util.h"

namespace thg {
namespace {

pipeline::GenerateOptions clip(nn::AttentionBackend backend) {
  pipeline::GenerateOptions o;
  o.placement.crop = false;  // test media are not photos of faces
  o.portrait = test::data("media/rgb8.png");
  o.audio = test::data("media/speech_2s.m4a");  // 50 frames at 25 fps
  o.steps = 2;
  o.seed = 9;
  o.chunk_frames = 5;
  o.chunk_overlap = 1;
  o.progress = false;
  o.attention = backend;
  return o;
}

TEST(Concurrency, TwoGenerationsOnTwoThreadsOneCancelledHalfWay) {
  test::ScratchDir dir;
  auto model = model::TalkingHeadModel::load(test::conditioned_tiny_model(dir.path()));
  const nn::AttentionBackend process_default = nn::attention_backend();
  const at::Tensor solo_math = test::generated_frames(*model, clip(nn::AttentionBackend::Math));
  const at::Tensor solo_sdpa = test::generated_frames(*model, clip(nn::AttentionBackend::Sdpa));
  ASSERT_EQ(solo_sdpa.size(0), 50);
  // The two backends round differently, so a request that ran with the wrong one would show.
  EXPECT_FALSE(solo_math.equal(solo_sdpa));

  std::atomic<int> ready{0};
  auto start_together = [&] {
    ready.fetch_add(1);
    while (ready.load() < 2) std::this_thread::yield();
  };
  // Thread A: math attention, cancelled by its own token once half its frames are out.
  auto token = std::make_shared<CancelToken>();
  pipeline::GenerateOptions a = clip(nn::AttentionBackend::Math);
  a.cancel = token;
  int64_t cancelled_at = -1;
  a.on_frames = [&](int64_t done, int64_t total) {
    if (done >= total / 2 && cancelled_at < 0) {
      cancelled_at = done;
      token->cancel();
    }
  };
  io::MemoryFrameSink sink_a;
  bool a_cancelled = false;
  std::thread ta([&] {
    start_together();
    try {
      pipeline::generate(*model, a, sink_a);
    } catch (const Error& e) {
      a_cancelled = e.kind() == ErrorKind::Cancelled;
    }
  });
  // Thread B: sdpa, no token: runs to the end.
  io::MemoryFrameSink sink_b;
  std::thread tb([&] {
    start_together();
    pipeline::generate(*model, clip(nn::AttentionBackend::Sdpa), sink_b);
  });
  ta.join();
  tb.join();

  EXPECT_TRUE(a_cancelled);
  ASSERT_GT(cancelled_at, 0);
  const at::Tensor partial = sink_a.frames();
  EXPECT_LT(partial.size(0), 50);  // stopped before the end
  // A's frames so far are exactly its solo run's (math), B's whole video its solo run's (sdpa).
  EXPECT_TRUE(partial.equal(solo_math.slice(0, 0, partial.size(0))));
  EXPECT_TRUE(sink_b.frames().equal(solo_sdpa));
  // Neither changed the process default, and this thread never saw their backends.
  EXPECT_EQ(nn::attention_backend(), process_default);
  EXPECT_FALSE(interrupt_requested());
}

TEST(Concurrency, ScopedBackendsNestAndRestore) {
  const nn::AttentionBackend before = nn::attention_backend();
  {
    const nn::ScopedAttentionBackend outer(nn::AttentionBackend::Math);
    EXPECT_EQ(nn::attention_backend(), nn::AttentionBackend::Math);
    {
      const nn::ScopedAttentionBackend inner(nn::AttentionBackend::Sdpa);
      EXPECT_EQ(nn::attention_backend(), nn::AttentionBackend::Sdpa);
      const nn::ScopedAttentionBackend none(std::nullopt);  // leaves the current one
      EXPECT_EQ(nn::attention_backend(), nn::AttentionBackend::Sdpa);
    }
    EXPECT_EQ(nn::attention_backend(), nn::AttentionBackend::Math);
    std::thread other([&] { EXPECT_EQ(nn::attention_backend(), before); });  // per thread
    other.join();
  }
  EXPECT_EQ(nn::attention_backend(), before);
}

}  // namespace
}  // namespace thg
