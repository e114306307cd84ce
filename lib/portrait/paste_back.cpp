#include "portrait/paste_back.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"

namespace thg::portrait {

namespace {
double smoothstep(double e0, double e1, double x) {
  const double t = std::clamp((x - e0) / (e1 - e0), 0.0, 1.0);
  return t * t * (3 - 2 * t);
}
}  // namespace

float face_mask(double u, double v) {
  // An ellipse over the face, from the brows to below the chin, with a soft edge; and a frame that
  // fades to 0 over the crop's outer 6% whatever the ellipse does.
  const double dx = (u - 0.5) / 0.40, dy = (v - 0.56) / 0.46;
  const double d = std::sqrt(dx * dx + dy * dy);
  const double ellipse = 1 - smoothstep(0.75, 1.0, d);
  const double edge = std::min({u, v, 1 - u, 1 - v});
  return static_cast<float>(ellipse * smoothstep(0.0, 0.06, edge));
}

PasteMap::PasteMap(int width, int height, const Affine& canvas_to_crop, int crop_size) : crop_size_(crop_size) {
  if (static_cast<int64_t>(width) * height >= (int64_t{1} << 32)) throw Error::failure("", "paste-back: canvas too large");
  // Only the canvas pixels under the crop's footprint can be masked.
  const Box f = footprint(canvas_to_crop.inverse(), crop_size);
  const int x0 = std::max(0, static_cast<int>(std::floor(f.x))), x1 = std::min(width - 1, static_cast<int>(std::ceil(f.x + f.width)));
  const int y0 = std::max(0, static_cast<int>(std::floor(f.y))), y1 = std::min(height - 1, static_cast<int>(std::ceil(f.y + f.height)));
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      const Point q = canvas_to_crop({static_cast<double>(x), static_cast<double>(y)});
      const float m = face_mask((q.x + 0.5) / crop_size, (q.y + 0.5) / crop_size);
      const auto alpha = static_cast<uint16_t>(std::lround(m * 256));
      if (alpha == 0) continue;
      const double cx = std::clamp(q.x, 0.0, crop_size - 1.0), cy = std::clamp(q.y, 0.0, crop_size - 1.0);
      const int ix = std::min(static_cast<int>(cx), crop_size - 2), iy = std::min(static_cast<int>(cy), crop_size - 2);
      const double fx = cx - ix, fy = cy - iy;
      Entry e;
      e.canvas_index = static_cast<uint32_t>(y) * static_cast<uint32_t>(width) + static_cast<uint32_t>(x);
      e.crop_index = static_cast<uint32_t>(iy * crop_size + ix);
      e.w00 = static_cast<uint16_t>(std::lround((1 - fx) * (1 - fy) * 256));
      e.w01 = static_cast<uint16_t>(std::lround(fx * (1 - fy) * 256));
      e.w10 = static_cast<uint16_t>(std::lround((1 - fx) * fy * 256));
      e.w11 = static_cast<uint16_t>(256 - e.w00 - e.w01 - e.w10);
      e.alpha = alpha;
      entries_.push_back(e);
    }
}

std::vector<uint16_t> PasteMap::coverage(int width, int height) const {
  std::vector<uint16_t> out(static_cast<size_t>(width) * height, 0);
  for (const Entry& e : entries_)
    if (e.canvas_index < out.size()) out[e.canvas_index] = e.alpha;
  return out;
}

void PasteMap::paste(const uint8_t* crop, uint8_t* canvas, bool gray) const {
  const size_t row = static_cast<size_t>(crop_size_) * 3;
  for (const Entry& e : entries_) {
    const uint8_t* p = crop + static_cast<size_t>(e.crop_index) * 3;
    uint8_t* out = canvas + static_cast<size_t>(e.canvas_index) * 3;
    uint32_t sample[3];
    for (int c = 0; c < 3; ++c)
      sample[c] = (p[c] * e.w00 + p[3 + c] * e.w01 + p[row + c] * e.w10 + p[row + 3 + c] * e.w11 + 128) >> 8;
    if (gray) sample[0] = sample[1] = sample[2] = (77 * sample[0] + 150 * sample[1] + 29 * sample[2] + 128) >> 8;
    for (int c = 0; c < 3; ++c) out[c] = static_cast<uint8_t>((sample[c] * e.alpha + out[c] * (256u - e.alpha) + 128) >> 8);
  }
}

PasteBackSink::PasteBackSink(io::FrameSink& inner, std::vector<uint8_t> canvas, int width, int height, PasteMap map,
                             bool gray)
    : inner_(inner), canvas_(std::move(canvas)), width_(width), height_(height), map_(std::move(map)), gray_(gray) {
  if (canvas_.size() != static_cast<size_t>(width) * height * 3) throw Error::failure("", "paste-back: canvas size mismatch");
}

void PasteBackSink::on_begin() {
  if (format().width != map_.crop_size() || format().height != map_.crop_size())
    throw Error::failure("", "paste-back: frames are " + std::to_string(format().width) + "x" +
                                 std::to_string(format().height) + ", the alignment made " +
                                 std::to_string(map_.crop_size()) + "-pixel crops");
  io::SinkFormat whole = format();
  whole.width = width_;
  whole.height = height_;
  inner_.begin(whole);
}

void PasteBackSink::on_frames(const at::Tensor& frames, int64_t first) {
  at::Tensor out = at::empty({frames.size(0), height_, width_, 3}, at::kByte);
  const size_t crop_bytes = static_cast<size_t>(map_.crop_size()) * map_.crop_size() * 3;
  for (int64_t i = 0; i < frames.size(0); ++i) {
    uint8_t* picture = out.data_ptr<uint8_t>() + static_cast<size_t>(i) * canvas_.size();
    std::memcpy(picture, canvas_.data(), canvas_.size());
    map_.paste(frames.data_ptr<uint8_t>() + static_cast<size_t>(i) * crop_bytes, picture, gray_);
  }
  inner_.write(out, first);
}

void PasteBackSink::finish() { inner_.finish(); }

}  // namespace thg::portrait
