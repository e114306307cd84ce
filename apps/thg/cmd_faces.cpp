// thg faces PHOTO: the faces a portrait holds (most confident first), as `thg generate --face N`
// numbers them, with an optional annotated preview image.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/error.h"
#include "io/image.h"
#include "io/media_writers.h"
#include "io/resize.h"
#include "portrait/face_detector.h"
#include "portrait/preview.h"

namespace thg::app {

namespace {
struct FacesCli {
  std::string photo;
  std::string preview;
  bool json = false;
};

int run_faces(const FacesCli& o) {
  if (!o.preview.empty()) {
    const std::filesystem::path p(o.preview);
    std::string ext = p.extension().string();
    for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (ext != ".png") throw Error::input(o.preview, "--preview must name a .png file");
  }
  io::RgbaImage photo = io::decode_image_rgba(o.photo);
  io::flatten_alpha(photo);
  const std::vector<portrait::DetectedFace> faces = portrait::detect_faces(photo, o.photo);
  if (o.json) {
    nlohmann::ordered_json j;
    j["photo"] = o.photo;
    j["width"] = photo.width;
    j["height"] = photo.height;
    j["faces"] = nlohmann::ordered_json::array();
    for (size_t i = 0; i < faces.size(); ++i) {
      const auto& f = faces[i];
      nlohmann::ordered_json landmarks = nlohmann::ordered_json::array();
      for (const auto& l : f.landmarks) landmarks.push_back({l.x, l.y});
      j["faces"].push_back({{"index", i},
                            {"box", {f.box.x, f.box.y, f.box.width, f.box.height}},
                            {"score", f.score},
                            {"eye_distance", f.eye_distance()},
                            {"landmarks", landmarks}});
    }
    std::cout << j.dump(2) << "\n";
  } else {
    std::printf("%s: %dx%d, %zu face%s\n", o.photo.c_str(), photo.width, photo.height, faces.size(),
                faces.size() == 1 ? "" : "s");
    for (size_t i = 0; i < faces.size(); ++i) {
      const auto& b = faces[i].box;
      std::printf("  face %zu: box %d,%d %dx%d, score %.2f%s\n", i, static_cast<int>(std::lround(b.x)),
                  static_cast<int>(std::lround(b.y)), static_cast<int>(std::lround(b.width)),
                  static_cast<int>(std::lround(b.height)), faces[i].score, i == 0 ? " (animated by default)" : "");
    }
  }
  if (!o.preview.empty()) {
    const portrait::Preview p = portrait::draw_faces(photo, faces, 0, 1280);
    io::write_png(o.preview, p.rgb.data(), p.width, p.height);
    if (!o.json) std::printf("wrote %s\n", o.preview.c_str());
  }
  // No face is an answer, not an error, here; but scripts can tell.
  return faces.empty() ? 3 : 0;
}
}  // namespace

Handler add_faces_command(CLI::App& app) {
  auto o = std::make_shared<FacesCli>();
  app.add_option("photo", o->photo, "Portrait photo (PNG, JPEG, WebP, ...)")->required();
  app.add_option("--preview", o->preview, "Also write the photo with each face's box, index and landmarks (.png)");
  app.add_flag("--json", o->json, "Machine-readable output (boxes, scores and the 68 landmarks, in photo pixels)");
  app.footer("Exit status: 0 faces found, 3 none found, 2 a bad input.\n"
             "Examples:\n  thg faces group.jpg\n  thg faces group.jpg --preview faces.png\n"
             "  thg generate -p group.jpg -a talk.wav -o out.mp4 --face 1");
  return [o] { return run_faces(*o); };
}

}  // namespace thg::app
