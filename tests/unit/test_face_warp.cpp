// The motion-warp renderer on a real photo: it carries out what the motion says (measured by
// dlib's landmarks on the rendered frames, not by the renderer's own numbers) and leaves the rest
// of the photo's pixels alone.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cstdlib>

#include "core/pixels.h"
#include "io/media_writers.h"
#include "model/face_warp.h"
#include "portrait/face_detector.h"
#include "portrait/prepare.h"
#include "test_util.h"

namespace thg {
namespace {

constexpr int kSize = 256;

struct Subject {
  at::Tensor crop;
  portrait::Landmarks landmarks;
};

const Subject& astronaut() {
  static const Subject s = [] {
    portrait::PreparedPortrait p = portrait::prepare_portrait(test::data("photos/astronaut.png"), kSize,
                                                              portrait::FaceTemplate{}, portrait::PortraitOptions{});
    return Subject{p.crop, p.crop_landmarks()};
  }();
  return s;
}

// dlib's landmarks of a rendered frame (the face found again from scratch).
portrait::Landmarks measured(const at::Tensor& frame) {
  const at::Tensor rgb = frames_to_rgb8(frame.unsqueeze(0)).squeeze(0).contiguous();  // [S, S, 3]
  io::RgbaImage img;
  img.width = img.height = static_cast<int>(frame.size(2));
  img.pixels.resize(static_cast<size_t>(img.width) * img.height * 4, 255);
  const uint8_t* src = rgb.data_ptr<uint8_t>();
  for (size_t i = 0; i < static_cast<size_t>(img.width) * img.height; ++i)
    for (int c = 0; c < 3; ++c) img.pixels[i * 4 + c] = src[i * 3 + c];
  const std::vector<portrait::DetectedFace> faces = portrait::detect_faces(img, "rendered frame");
  EXPECT_FALSE(faces.empty()) << "no face found in the rendered frame";
  return faces.empty() ? portrait::Landmarks{} : faces.front().landmarks;
}

at::Tensor motion_rows(const std::vector<model::MotionFrame>& frames) {
  std::vector<float> flat;
  for (const auto& f : frames) flat.insert(flat.end(), f.begin(), f.end());
  return at::tensor(flat).view({static_cast<int64_t>(frames.size()), model::kMotionChannels});
}

// THG_TEST_OUTPUT=dir keeps the rendered frames as PNGs, to look at.
void keep(const at::Tensor& frames, const std::string& name) {
  const char* dir = std::getenv("THG_TEST_OUTPUT");
  if (!dir) return;
  const at::Tensor rgb = frames_to_rgb8(frames).contiguous();
  for (int64_t i = 0; i < rgb.size(0); ++i)
    io::write_png(std::string(dir) + "/" + name + "-" + std::to_string(i) + ".png", rgb[i].contiguous().data_ptr<uint8_t>(),
                  static_cast<int>(rgb.size(2)), static_cast<int>(rgb.size(1)));
}

TEST(FaceWarp, RestMotionGivesThePhotoBack) {
  const Subject& s = astronaut();
  const at::Tensor out = model::render_motion(s.crop, s.landmarks, motion_rows({model::rest_motion()}));
  EXPECT_LT((out[0] - s.crop).abs().max().item<double>(), 1e-3);
}

TEST(FaceWarp, OpeningAndPressingMoveTheMeasuredLips) {
  const Subject& s = astronaut();
  const double rest = model::lip_opening(measured(s.crop));
  model::MotionFrame open = model::rest_motion(), pressed = model::rest_motion();
  open[model::kOpen] = 1.0f;
  pressed[model::kOpen] = 1.0f;
  pressed[model::kPress] = 1.0f;
  const at::Tensor frames = model::render_motion(s.crop, s.landmarks, motion_rows({open, pressed}));
  keep(frames, "open-pressed");
  const double opened = model::lip_opening(measured(frames[0]));
  const double closed = model::lip_opening(measured(frames[1]));
  std::printf("inner-lip gap / inter-ocular distance: rest %.3f, open %.3f, pressed %.3f\n", rest, opened, closed);
  EXPECT_GT(opened, rest + 0.25);  // the motion asks for 0.46
  EXPECT_LT(closed, 0.03);
}

TEST(FaceWarp, OnlyTheFaceMovesAndTheOpeningIsDarkInside) {
  const Subject& s = astronaut();
  model::MotionFrame m = model::rest_motion();
  m[model::kOpen] = 1.0f;
  m[model::kBlink] = 1.0f;
  m[model::kShiftX] = 0.05f;
  m[model::kRoll] = 0.03f;
  const at::Tensor out = model::render_motion(s.crop, s.landmarks, motion_rows({m}))[0];
  keep(out.unsqueeze(0), "open-blink-head");
  // The crop's corners are far from the face: untouched.
  const at::Tensor corner = (out - s.crop).abs().slice(1, 0, 24).slice(2, 0, 24);
  EXPECT_LT(corner.max().item<double>(), 1e-3);
  // The centre of the moved inner lips is the mouth's dark interior, darker than the lips.
  const portrait::Landmarks moved = model::move_landmarks(s.landmarks, m, /*with_head=*/false);
  const auto px = [&](const portrait::Point& p) {
    return out.select(1, std::lround(p.y)).select(1, std::lround(p.x)).mean().item<double>();
  };
  const portrait::Point inside{(moved[62].x + moved[66].x) / 2, (moved[62].y + moved[66].y) / 2 + 2};
  EXPECT_LT(px(inside), 0.6 * px(moved[57]));
}

}  // namespace
}  // namespace thg

namespace thg {
namespace {

// The template's landmarks (used when no face was measured) sit where an aligned real face's are.
TEST(FaceWarp, TemplateLandmarksSitWhereAnAlignedFacesAre) {
  const Subject& s = astronaut();
  const portrait::FaceTemplate t{};
  const portrait::Landmarks tl = model::template_landmarks(t.eye_y, t.eye_distance, t.mouth_y, kSize);
  const double iod = t.eye_distance * kSize;
  auto near = [&](portrait::Point a, portrait::Point b, double tolerance, const char* what) {
    EXPECT_LT(std::hypot(a.x - b.x, a.y - b.y), tolerance * iod) << what;
  };
  near(portrait::landmark_mean(tl, 36, 41), portrait::landmark_mean(s.landmarks, 36, 41), 0.1, "image-left eye");
  near(portrait::landmark_mean(tl, 42, 47), portrait::landmark_mean(s.landmarks, 42, 47), 0.1, "image-right eye");
  near(portrait::landmark_mean(tl, 48, 67), portrait::landmark_mean(s.landmarks, 48, 67), 0.15, "mouth");
  const double width = std::hypot(tl[54].x - tl[48].x, tl[54].y - tl[48].y);
  const double measured = std::hypot(s.landmarks[54].x - s.landmarks[48].x, s.landmarks[54].y - s.landmarks[48].y);
  EXPECT_NEAR(width / measured, 1.0, 0.3);
  EXPECT_LT(model::lip_opening(tl), 0.01);
}

}  // namespace
}  // namespace thg
