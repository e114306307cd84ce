#pragma once
// Paste-back: each generated face crop goes back into the picture through the inverse of the
// alignment, blended with a feathered mask over the face and neck. Everything the mask leaves out
// is the picture's own pixels, untouched. The mapping is the same for every frame, so it is worked
// out once (which picture pixel takes which crop pixels, with what weights) and each frame is then
// one pass over the masked pixels.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "io/frame_sink.h"
#include "portrait/framing.h"
#include "portrait/geometry.h"

namespace thg::portrait {

// The blend weight of a crop point (crop units, 0..1): 1 over the face and the neck below it,
// falling smoothly to 0 before the crop's border (so the crop's edge never shows).
float face_mask(double u, double v);

class PasteMap {
 public:
  // canvas_to_crop: canvas pixel -> crop pixel (pixel centres).
  PasteMap(int canvas_width, int canvas_height, const Affine& canvas_to_crop, int crop_size);
  // Blends `crop` (uint8 crop_size x crop_size x 3) into `canvas` (uint8 height x width x 3) in place.
  // gray: the crop's luma only (BT.601 weights), for a black-and-white photo, so that a model's
  // colour never tints it.
  void paste(const uint8_t* crop, uint8_t* canvas, bool gray = false) const;
  size_t masked_pixels() const { return entries_.size(); }
  // The blend weight of every canvas pixel (0: the canvas' own pixel, 256: the crop's alone).
  std::vector<uint16_t> coverage(int canvas_width, int canvas_height) const;
  int crop_size() const { return crop_size_; }

 private:
  struct Entry {
    uint32_t canvas_index;             // pixel index in the canvas
    uint32_t crop_index;               // top-left bilinear tap (pixel index in the crop)
    uint16_t w00, w01, w10, w11;       // bilinear weights, sum 256
    uint16_t alpha;                    // blend weight 1..256 (256: the crop alone)
  };
  std::vector<Entry> entries_;
  int crop_size_;
};

// Takes the model's crops and writes whole pictures into `inner`: the canvas with each crop pasted
// back. The canvas stays the picture's own pixels wherever the mask is 0.
class PasteBackSink : public io::FrameSink {
 public:
  PasteBackSink(io::FrameSink& inner, std::vector<uint8_t> canvas, int canvas_width, int canvas_height, PasteMap map,
                bool gray = false);
  void finish() override;
  const PasteMap& map() const { return map_; }

 private:
  void on_begin() override;
  void on_frames(const at::Tensor& frames, int64_t first) override;
  io::FrameSink& inner_;
  std::vector<uint8_t> canvas_;
  int width_, height_;
  PasteMap map_;
  bool gray_;
};

}  // namespace thg::portrait
