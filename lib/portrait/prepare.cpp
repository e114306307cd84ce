#include "portrait/prepare.h"

#include <cmath>
#include <cstdlib>

#include "core/error.h"
#include "core/log.h"
#include "io/resize.h"

namespace thg::portrait {

void validate(const PortraitOptions& o) {
  if (!(o.crop_scale >= 0.5 && o.crop_scale <= 4.0)) throw Error::input("", "--crop-scale must be between 0.5 and 4");
  if (o.max_size < 64 || o.max_size > 8192) throw Error::input("", "--max-size must be between 64 and 8192");
  if (o.face < -1) throw Error::input("", "--face must be 0 or more (0: the most confident face)");
  parse_framing(o.framing);
}

PreparedPortrait prepare_portrait(io::RgbaImage photo, const std::string& source, int crop_size,
                                  const FaceTemplate& face_template, const PortraitOptions& o) {
  validate(o);
  io::flatten_alpha(photo);
  PreparedPortrait p;
  p.photo_width = photo.width;
  p.photo_height = photo.height;
  p.faces = detect_faces(photo, source);
  if (p.faces.empty())
    throw Error::input(source, "no face found; for a photo that is already a face crop (or not a face), use --no-crop");
  p.chosen = o.face < 0 ? 0 : o.face;
  if (p.chosen >= static_cast<int>(p.faces.size()))
    throw Error::input(source, "--face " + std::to_string(o.face) + " asks for face " + std::to_string(o.face) +
                                   ", but the photo has " + std::to_string(p.faces.size()) +
                                   (p.faces.size() == 1 ? " face (0)" : " faces (0-" + std::to_string(p.faces.size() - 1) + ")") +
                                   "; `thg faces` lists them");
  const DetectedFace& face = p.face();
  if (face.box.width < 64)
    log::warn(source + ": the face is " + std::to_string(static_cast<int>(std::lround(face.box.width))) +
              " px wide (under 64): the result will be soft");
  p.photo_to_crop = photo_to_crop(face, face_template, o.crop_scale, crop_size);
  p.crop = extract_crop(photo, p.photo_to_crop, crop_size);
  p.canvas = plan_canvas(photo.width, photo.height, face, parse_framing(o.framing), o.max_size);
  p.canvas_pixels = render_canvas(photo, p.canvas);
  // A black-and-white photo (stored as colour or not): channels within 2 levels everywhere.
  p.grayscale = true;
  for (size_t i = 0; i + 2 < p.canvas_pixels.size() && p.grayscale; i += 3) {
    const int r = p.canvas_pixels[i], g = p.canvas_pixels[i + 1], b = p.canvas_pixels[i + 2];
    p.grayscale = std::abs(r - g) <= 2 && std::abs(g - b) <= 2;
  }
  return p;
}

PreparedPortrait prepare_portrait(const std::filesystem::path& photo, int crop_size, const FaceTemplate& face_template,
                                  const PortraitOptions& options) {
  validate(options);
  return prepare_portrait(io::decode_image_rgba(photo), photo.string(), crop_size, face_template, options);
}

PasteMap PreparedPortrait::paste_map() const {
  return PasteMap(canvas.width, canvas.height, Affine::from(photo_to_crop).after(canvas.to_photo()),
                  static_cast<int>(crop.size(1)));
}

std::unique_ptr<PasteBackSink> PreparedPortrait::paste_back_into(io::FrameSink& inner) const {
  return std::make_unique<PasteBackSink>(inner, canvas_pixels, canvas.width, canvas.height, paste_map(), grayscale);
}

Landmarks PreparedPortrait::crop_landmarks() const {
  Landmarks out = face().landmarks;
  for (Point& p : out) p = photo_to_crop(p);
  return out;
}

}  // namespace thg::portrait
