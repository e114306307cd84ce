#pragma once
// The portrait stage before generation: the photo at full resolution, its faces, the chosen one
// aligned into the model's crop, the video's picture (canvas) and the paste-back that puts each
// generated crop into it. Usable alone (thg faces, a server's preview) and by pipeline::generate.
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "io/frame_sink.h"
#include "io/image.h"
#include "portrait/alignment.h"
#include "portrait/face_detector.h"
#include "portrait/framing.h"
#include "portrait/paste_back.h"

namespace thg::portrait {

struct PortraitOptions {
  bool crop = true;            // false (--no-crop): the whole photo is the model's input, as it is
  int face = -1;               // which face (0: the most confident); -1: the most confident
  double crop_scale = 1.0;     // > 1 shows more around the face in the model's crop
  int max_size = 1280;         // the video's long side at most (pixels)
  std::string framing = "photo";  // photo, square or portrait (9:16)
};

// Checks the options' values (before any decoding); throws Error::input naming the flag.
void validate(const PortraitOptions& options);

struct PreparedPortrait {
  at::Tensor crop;               // the model's input: float32 [3, crop_size, crop_size] in [0, 1]
  std::vector<DetectedFace> faces;  // most confident first
  int chosen = 0;                // index into faces
  int photo_width = 0, photo_height = 0;
  Similarity photo_to_crop;
  Canvas canvas;                 // the video's picture
  std::vector<uint8_t> canvas_pixels;  // uint8 RGB, canvas.height x canvas.width x 3
  bool grayscale = false;        // every canvas pixel gray: faces are pasted back in gray too
  const DetectedFace& face() const { return faces[static_cast<size_t>(chosen)]; }
  // The chosen face's landmarks in the crop's pixels.
  Landmarks crop_landmarks() const;
  // Which canvas pixels take which crop pixels (canvas -> photo -> crop).
  PasteMap paste_map() const;
  // A sink that pastes each crop into the canvas and writes the whole picture into `inner`.
  std::unique_ptr<PasteBackSink> paste_back_into(io::FrameSink& inner) const;
};

// `photo` as decoded (alpha is composited onto white here); `source` names it in messages.
// Throws Error::input naming the file when it has no face, or not the one asked for.
PreparedPortrait prepare_portrait(io::RgbaImage photo, const std::string& source, int crop_size,
                                  const FaceTemplate& face_template, const PortraitOptions& options);

// Decodes the photo at full resolution (within the usual image limits) and prepares it.
PreparedPortrait prepare_portrait(const std::filesystem::path& photo, int crop_size, const FaceTemplate& face_template,
                                  const PortraitOptions& options);

}  // namespace thg::portrait
