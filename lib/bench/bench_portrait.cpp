#include "bench/bench_portrait.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <cstring>

#include "core/error.h"
#include "core/machine.h"
#include "io/image.h"
#include "io/resize.h"
#include "portrait/prepare.h"

namespace thg::pipeline {

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
}  // namespace

PortraitBenchResult bench_portrait(const PortraitBenchOptions& o) {
  if (o.repeats < 1 || o.warmup < 0 || o.paste_frames < 1) throw Error::input("", "bench portrait: repeats and frames must be >= 1");
  PortraitBenchResult r;
  const io::RgbaImage photo = io::decode_image_rgba(o.photo);
  r.photo_width = photo.width;
  r.photo_height = photo.height;
  const portrait::FaceTemplate face_template;
  for (int i = 0; i < o.warmup + o.repeats; ++i) {
    io::RgbaImage copy = photo;  // prepare_portrait takes the decoded photo by value; the copy is not timed
    const auto t = Clock::now();
    const portrait::PreparedPortrait p = portrait::prepare_portrait(std::move(copy), o.photo.string(), o.crop_size, face_template, {});
    if (i >= o.warmup) r.prepare_seconds.push_back(since(t));
    r.faces = static_cast<int>(p.faces.size());
  }
  r.prepare_median_ms = median(r.prepare_seconds) * 1000;

  // Paste-back into a 1280x720 picture: the photo letterboxed into it (the face as large as the
  // photo's height allows), each frame = copy the picture + blend the masked pixels.
  const int W = 1280, H = 720;
  const int side = std::min(H, static_cast<int>(static_cast<int64_t>(photo.width) * H / photo.height));
  const std::vector<uint8_t> inner = io::resize_rgb(photo, {0, 0, photo.width, photo.height}, side, H);
  io::RgbaImage wide;
  wide.width = W;
  wide.height = H;
  wide.pixels.assign(static_cast<size_t>(W) * H * 4, 255);
  const int x0 = (W - side) / 2;
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < side; ++x)
      std::memcpy(&wide.pixels[(static_cast<size_t>(y) * W + x0 + x) * 4], &inner[(static_cast<size_t>(y) * side + x) * 3], 3);
  const portrait::PreparedPortrait p = portrait::prepare_portrait(wide, "1280x720", o.crop_size, face_template, {});
  r.paste_width = p.canvas.width;
  r.paste_height = p.canvas.height;
  const portrait::PasteMap map = p.paste_map();
  r.paste_masked_pixels = map.masked_pixels();
  const at::Tensor crop = (p.crop.permute({1, 2, 0}) * 255).round().to(at::kByte).contiguous();
  std::vector<uint8_t> picture(p.canvas_pixels.size());
  for (int i = 0; i < o.warmup + o.repeats; ++i) {
    const auto t = Clock::now();
    for (int f = 0; f < o.paste_frames; ++f) {
      std::memcpy(picture.data(), p.canvas_pixels.data(), picture.size());
      map.paste(crop.data_ptr<uint8_t>(), picture.data());
    }
    if (i >= o.warmup) r.paste_ms_per_frame.push_back(since(t) * 1000 / o.paste_frames);
  }
  r.paste_median_ms = median(r.paste_ms_per_frame);
  r.about["cpu"] = cpu_name();
  r.about["threads"] = std::to_string(at::get_num_threads());
  r.about["photo"] = o.photo.string();
  r.about["timing"] = "median of the timed runs after the warm-up (which also loads the landmark model)";
  return r;
}

}  // namespace thg::pipeline
