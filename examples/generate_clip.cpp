// A complete program on THG's library (thg/thg.h): loads the bundled model, animates the face of a
// photo with a speech file, keeps the frames in memory to look at them, and writes an MP4.
//
//   generate_clip PHOTO SPEECH OUT.mp4 [MAX_FRAMES]
#include <thg/thg.h>

#include <ATen/ATen.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s PHOTO SPEECH OUT.mp4 [MAX_FRAMES]\n", argv[0]);
    return 2;
  }
  try {
    thg::pipeline::LoadedModel loaded = thg::pipeline::load_model({});  // bundled default, best device
    thg::pipeline::GenerateOptions options;
    options.portrait = argv[1];
    options.audio = argv[2];
    options.progress = false;
    if (argc > 4) options.max_frames = std::atoll(argv[4]);

    // 1. Frames into memory: the face found, animated and pasted back into the photo.
    thg::io::MemoryFrameSink memory;
    const thg::pipeline::GenerateResult r = thg::pipeline::generate(*loaded.model, options, memory);
    const at::Tensor frames = memory.frames();  // uint8 [frames, height, width, 3]
    const double change = (frames.to(at::kFloat) - frames[0].to(at::kFloat)).abs().mean().item<double>();
    std::printf("%lld frames of %dx%d, face %d of %d; mean change from the first frame %.2f levels\n",
                static_cast<long long>(r.frames), r.width, r.height, r.face.index, r.face.found, change);

    // 2. The same generation into an MP4 (H.264 + AAC), published only when complete.
    options.output = argv[3];
    thg::pipeline::generate(*loaded.model, options);
    std::printf("wrote %s\n", argv[3]);
    return 0;
  } catch (const thg::Error& e) {
    std::fprintf(stderr, "generate_clip: %s\n", e.what());
    return e.kind() == thg::ErrorKind::BadInput ? 2 : 1;
  }
}
