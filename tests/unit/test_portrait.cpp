// The portrait stage: faces found in real photos (dlib), aligned to the model's template, each
// generated crop pasted back into the photo at its own resolution with nothing outside the mask
// touched, and every bad input refused with one line.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/frame_sink.h"
#include "io/image.h"
#include "io/media_writers.h"
#include "io/probe.h"
#include "io/resize.h"
#include "portrait/alignment.h"
#include "portrait/face_detector.h"
#include "portrait/geometry.h"
#include "portrait/paste_back.h"
#include "portrait/prepare.h"
#include "synth/face.h"
#include "synth/landmarks.h"
#include "synth/render.h"
#include "test_util.h"

namespace thg {
namespace {

namespace fs = std::filesystem;
using portrait::Point;

const fs::path& astronaut() {
  static const fs::path p = test::data("photos/astronaut.png");
  return p;
}

// The photo as a uint8 [H, W, 4] tensor (a copy), and back to a PNG.
at::Tensor pixels(const io::RgbaImage& image) {
  return at::from_blob(const_cast<uint8_t*>(image.pixels.data()), {image.height, image.width, 4}, at::kByte).clone();
}
void save_png(const fs::path& path, const at::Tensor& rgba_or_rgb) {
  at::Tensor rgb = rgba_or_rgb.slice(2, 0, 3).contiguous();
  io::write_png(path, rgb.data_ptr<uint8_t>(), static_cast<int>(rgb.size(1)), static_cast<int>(rgb.size(0)));
}
io::RgbaImage to_image(const at::Tensor& rgba) {
  io::RgbaImage image;
  image.height = static_cast<int>(rgba.size(0));
  image.width = static_cast<int>(rgba.size(1));
  at::Tensor c = rgba.contiguous();
  image.pixels.assign(c.data_ptr<uint8_t>(), c.data_ptr<uint8_t>() + c.numel());
  return image;
}

double distance(Point a, Point b) { return std::hypot(a.x - b.x, a.y - b.y); }

TEST(Portrait, SimilarityFitRecoversAKnownTransformExactly) {
  const portrait::Similarity truth{0.8 * std::cos(0.3), 0.8 * std::sin(0.3), 12.5, -40.25};
  std::vector<Point> from{{10, 20}, {200, 35}, {90, 300}, {7, 8}};
  std::vector<Point> to;
  for (const Point& p : from) to.push_back(truth(p));
  const portrait::Similarity fit = portrait::fit_similarity(from, to);
  EXPECT_NEAR(fit.a, truth.a, 1e-12);
  EXPECT_NEAR(fit.b, truth.b, 1e-12);
  EXPECT_NEAR(fit.tx, truth.tx, 1e-9);
  EXPECT_NEAR(fit.ty, truth.ty, 1e-9);
  const Point p{123.4, -56.7};
  const Point back = truth.inverse()(truth(p));
  EXPECT_NEAR(back.x, p.x, 1e-9);
  EXPECT_NEAR(back.y, p.y, 1e-9);
  const portrait::Affine stretch{2, 0, 0, 3, 1, 1};
  const Point q = portrait::Affine::from(truth).after(stretch)(p), expected = truth(stretch(p));
  EXPECT_NEAR(q.x, expected.x, 1e-9);
  EXPECT_NEAR(q.y, expected.y, 1e-9);
  const Point r = stretch.inverse()(stretch(p));
  EXPECT_NEAR(r.x, p.x, 1e-9);
  EXPECT_THROW(portrait::fit_similarity({{1, 1}, {1, 1}}, {{0, 0}, {2, 2}}), Error);
}

// A face whose landmarks are the template's, moved into the photo by `placement`: alignment must
// undo `placement` exactly (the eyes and mouth land on the template's points).
TEST(Portrait, AlignmentPutsExactLandmarksOnTheTemplate) {
  const portrait::FaceTemplate t;
  const int crop = 128;
  const portrait::Similarity placement{3.0 * std::cos(-0.2), 3.0 * std::sin(-0.2), 400, 250};
  portrait::DetectedFace face;
  auto put = [&](int first, int last, Point centre) {
    for (int i = first; i <= last; ++i) face.landmarks[static_cast<size_t>(i)] = placement({centre.x * crop, centre.y * crop});
  };
  put(36, 41, t.eye_image_left());
  put(42, 47, t.eye_image_right());
  put(48, 67, t.mouth());
  for (const double scale : {1.0, 1.5}) {
    const portrait::Similarity to_crop = portrait::photo_to_crop(face, t, scale, crop);
    const Point eye = to_crop(face.eye_image_left()), mouth = to_crop(face.mouth());
    // Template points in crop pixels (pixel centres), pulled towards the centre by the scale.
    EXPECT_NEAR(eye.x, (0.5 + (t.eye_image_left().x - 0.5) / scale) * crop - 0.5, 1e-6) << scale;
    EXPECT_NEAR(eye.y, (0.5 + (t.eye_y - 0.5) / scale) * crop - 0.5, 1e-6) << scale;
    EXPECT_NEAR(mouth.y, (0.5 + (t.mouth_y - 0.5) / scale) * crop - 0.5, 1e-6) << scale;
    EXPECT_NEAR(to_crop.scale(), scale == 1.0 ? 1.0 / 3.0 : 1.0 / 4.5, 1e-6);
    EXPECT_NEAR(to_crop.angle(), 0.2, 1e-9);
  }
}

// Sampling a linear ramp: bilinear taps and area averaging both reproduce a linear function, so
// every crop pixel must equal the ramp at its source point, whether the face is shrunk or not.
TEST(Portrait, TheCropIsResampledFromTheFullResolutionPhoto) {
  const int w = 900, h = 700;
  at::Tensor ramp = at::empty({h, w, 4}, at::kByte);
  auto value = [](double x, double y) { return 20 + 0.1 * x + 0.2 * y; };
  auto acc = ramp.accessor<uint8_t, 3>();
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      acc[y][x][0] = static_cast<uint8_t>(std::lround(value(x, y)));
      acc[y][x][1] = static_cast<uint8_t>(std::lround(value(x, y)));
      acc[y][x][2] = 0;
      acc[y][x][3] = 255;
    }
  const io::RgbaImage photo = to_image(ramp);
  for (const double s : {1.0, 0.25}) {  // photo pixels -> crop pixels: equal size, and 4x shrunk
    const portrait::Similarity to_crop{s * std::cos(0.1), s * std::sin(0.1), -s * 300, -s * 250};
    const at::Tensor crop = portrait::extract_crop(photo, to_crop, 64);
    ASSERT_EQ(crop.sizes(), (std::vector<int64_t>{3, 64, 64}));
    double worst = 0;
    for (int v = 2; v < 62; ++v)
      for (int u = 2; u < 62; ++u) {
        const Point p = to_crop.inverse()({static_cast<double>(u), static_cast<double>(v)});
        worst = std::max(worst, std::abs(crop[0][v][u].item<double>() * 255 - value(p.x, p.y)));
      }
    EXPECT_LT(worst, 1.6) << "scale " << s;  // rounding of the ramp (0.5) and of swscale (about 1)
  }
}

TEST(Portrait, FindsTheFaceInARealPhotoWithItsLandmarks) {
  const io::RgbaImage photo = io::decode_image_rgba(astronaut());
  const auto faces = portrait::detect_faces(photo, astronaut().string());
  ASSERT_GE(faces.size(), 1u);
  const portrait::DetectedFace& f = faces[0];
  // Measured on a 5x enlargement of the photo (512x512): pupils at about (203, 102) and (247, 104),
  // the mouth's centre at (224, 145).
  EXPECT_LT(distance(f.eye_image_left(), {203, 102}), 4) << f.eye_image_left().x << "," << f.eye_image_left().y;
  EXPECT_LT(distance(f.eye_image_right(), {247, 104}), 4) << f.eye_image_right().x << "," << f.eye_image_right().y;
  EXPECT_LT(distance(f.mouth(), {224, 145}), 4) << f.mouth().x << "," << f.mouth().y;
  for (size_t i = 1; i < faces.size(); ++i) EXPECT_LE(faces[i].score, faces[0].score);

  // Grayscale: the same face.
  at::Tensor rgba = pixels(photo);
  at::Tensor gray = rgba.slice(2, 0, 3).to(at::kFloat).mean(2, true).round().to(at::kByte);
  at::Tensor gray_rgba = at::cat({gray, gray, gray, rgba.slice(2, 3, 4)}, 2);
  const auto gray_faces = portrait::detect_faces(to_image(gray_rgba), "gray");
  ASSERT_GE(gray_faces.size(), 1u);
  EXPECT_LT(distance(gray_faces[0].eye_image_left(), f.eye_image_left()), 3);

  // Two people side by side (the photo twice, the right one mirrored): two faces, each found, and
  // not the weak detection on the space suit.
  at::Tensor pair = at::cat({rgba, rgba.flip(1)}, 1).contiguous();
  const auto two = portrait::detect_faces(to_image(pair), "pair");
  ASSERT_EQ(two.size(), 2u);
  const double x0 = two[0].mouth().x, x1 = two[1].mouth().x;
  EXPECT_NEAR(std::min(x0, x1), 225, 8);
  EXPECT_NEAR(std::max(x0, x1), 1024 - 225, 8);
}

// The photo shrunk to `side` pixels and placed at (x, y) in a grey frame of frame_w x frame_h.
io::RgbaImage framed(int side, int frame_w, int frame_h, int x, int y) {
  const io::RgbaImage photo = io::decode_image_rgba(astronaut());
  const std::vector<uint8_t> small = io::resize_rgb(photo, {0, 0, 512, 512}, side, side);
  at::Tensor canvas = at::full({frame_h, frame_w, 4}, 128, at::kByte);
  canvas.slice(2, 3, 4).fill_(255);
  at::Tensor s = at::from_blob(const_cast<uint8_t*>(small.data()), {side, side, 3}, at::kByte);
  canvas.slice(0, y, y + side).slice(1, x, x + side).slice(2, 0, 3).copy_(s);
  return to_image(canvas);
}

TEST(Portrait, FindsSmallFacesInLargePhotos) {
  // A face about 5% of a 2400-pixel photo's width (~120 px; ~40 px in the 800-pixel copy).
  const auto five = portrait::detect_faces(framed(768, 2400, 1600, 1500, 700), "five");
  ASSERT_GE(five.size(), 1u);
  EXPECT_LT(distance(five[0].mouth(), {1500 + 225 * 1.5, 700 + 145 * 1.5}), 6);
  // A face ~60 px wide in a 1200-pixel photo (found at 4/3 of the photo's own pixels).
  const auto small = portrait::detect_faces(framed(384, 1200, 900, 100, 400), "small");
  ASSERT_GE(small.size(), 1u);
  EXPECT_LT(distance(small[0].mouth(), {100 + 225 * 0.75, 400 + 145 * 0.75}), 4);
}

struct Prepared {
  portrait::PreparedPortrait p;
  io::RgbaImage photo;
};

Prepared prepare_astronaut(const portrait::PortraitOptions& o = {}) {
  Prepared r;
  r.photo = io::decode_image_rgba(astronaut());
  r.p = portrait::prepare_portrait(r.photo, astronaut().string(), 128, portrait::FaceTemplate{}, o);
  return r;
}

// Pixels outside the mask are the photo's own, bit for bit; inside, the crop shows; and pasting
// the crop the photo itself gave returns (nearly) the photo, so the inverse mapping is registered.
TEST(Portrait, PasteBackChangesOnlyTheMaskedFaceRegion) {
  const Prepared a = prepare_astronaut();
  ASSERT_EQ(a.p.canvas.width, 512);
  ASSERT_EQ(a.p.canvas.height, 512);
  const at::Tensor photo_rgb = pixels(a.photo).slice(2, 0, 3).contiguous();
  const at::Tensor canvas = at::from_blob(const_cast<uint8_t*>(a.p.canvas_pixels.data()), {512, 512, 3}, at::kByte);
  EXPECT_TRUE(canvas.equal(photo_rgb));  // photo framing at its own size: the canvas is the photo

  io::MemoryFrameSink memory;
  const auto paste = a.p.paste_back_into(memory);
  paste->begin({128, 128, 25, nullptr});
  at::Tensor generated = at::randint(0, 256, {2, 128, 128, 3}, at::kByte);
  at::Tensor own = (a.p.crop.permute({1, 2, 0}) * 255).round().clamp(0, 255).to(at::kByte).unsqueeze(0);
  paste->write(at::cat({generated, own}), 0);
  paste->finish();
  const at::Tensor out = memory.frames();
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{3, 512, 512, 3}));

  std::vector<uint16_t> cover = paste->map().coverage(512, 512);
  const at::Tensor masked = at::from_blob(cover.data(), {512, 512}, at::kShort) != 0;
  const at::Tensor changed = (out[0] != photo_rgb).any(2);
  EXPECT_GT(changed.sum().item<int64_t>(), 2000);  // the face region
  EXPECT_FALSE((changed & ~masked).any().item<bool>());  // only masked pixels change
  // The mask covers the face's neighbourhood only: within 2.5 eye distances of the mouth.
  const at::Tensor where = at::nonzero(masked);
  const Point mouth = a.p.face().mouth();
  const double reach = 2.5 * a.p.face().eye_distance();
  const at::Tensor dy = where.select(1, 0).to(at::kDouble) - mouth.y, dx = where.select(1, 1).to(at::kDouble) - mouth.x;
  EXPECT_LT((dx * dx + dy * dy).sqrt().max().item<double>(), reach);
  // Pixels the mask leaves out are bit-identical to the photo in every frame.
  const at::Tensor outside = ~masked;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(out[i].index({outside}).equal(photo_rgb.index({outside}))) << i;
  // The photo's own crop pasted back: the face region barely changes (resampling twice).
  const at::Tensor diff = (out[2].to(at::kFloat) - photo_rgb.to(at::kFloat)).abs();
  EXPECT_LT(diff.index({masked}).mean().item<double>(), 4.0);
}

// A black-and-white photo stays black and white: the model's colour never tints the pasted face.
TEST(Portrait, AGrayPhotoGetsAGrayFace) {
  const io::RgbaImage photo = io::decode_image_rgba(astronaut());
  at::Tensor rgba = pixels(photo);
  at::Tensor gray = rgba.slice(2, 0, 3).to(at::kFloat).mean(2, true).round().to(at::kByte);
  const io::RgbaImage bw = to_image(at::cat({gray, gray, gray, rgba.slice(2, 3, 4)}, 2));
  const portrait::PreparedPortrait p = portrait::prepare_portrait(bw, "bw", 128, portrait::FaceTemplate{}, {});
  EXPECT_TRUE(p.grayscale);
  EXPECT_FALSE(prepare_astronaut().p.grayscale);
  io::MemoryFrameSink memory;
  const auto paste = p.paste_back_into(memory);
  paste->begin({128, 128, 25, nullptr});
  paste->write(at::randint(0, 256, {1, 128, 128, 3}, at::kByte), 0);  // a very colourful "face"
  paste->finish();
  const at::Tensor out = memory.frames()[0];
  EXPECT_TRUE(out.select(2, 0).equal(out.select(2, 1)));
  EXPECT_TRUE(out.select(2, 1).equal(out.select(2, 2)));
}

TEST(Portrait, FramingAndSizeCaps) {
  portrait::PortraitOptions o;
  o.framing = "square";
  const Prepared sq = prepare_astronaut(o);
  EXPECT_EQ(sq.p.canvas.width, sq.p.canvas.height);
  EXPECT_LT(sq.p.canvas.width, 512);
  o.framing = "portrait";
  const Prepared tall = prepare_astronaut(o);
  EXPECT_NEAR(static_cast<double>(tall.p.canvas.width) / tall.p.canvas.height, 9.0 / 16.0, 0.02);
  EXPECT_EQ(tall.p.canvas.width % 2, 0);
  EXPECT_EQ(tall.p.canvas.height % 2, 0);
  o.framing = "photo";
  o.max_size = 300;
  const Prepared capped = prepare_astronaut(o);
  EXPECT_EQ(capped.p.canvas.width, 300);
  EXPECT_EQ(capped.p.canvas.height, 300);
  // The face still lands where it is in the smaller picture: paste its own crop back and compare.
  io::MemoryFrameSink memory;
  const auto paste = capped.p.paste_back_into(memory);
  paste->begin({128, 128, 25, nullptr});
  paste->write((capped.p.crop.permute({1, 2, 0}) * 255).round().to(at::kByte).unsqueeze(0), 0);
  paste->finish();
  const at::Tensor canvas = at::from_blob(const_cast<uint8_t*>(capped.p.canvas_pixels.data()), {300, 300, 3}, at::kByte);
  EXPECT_LT((memory.frames()[0].to(at::kFloat) - canvas.to(at::kFloat)).abs().mean().item<double>(), 0.5);
}

TEST(Portrait, BadInputsAreRefusedByName) {
  test::ScratchDir dir;
  // No face: the file named, --no-crop suggested.
  const fs::path blank = dir / "blank.png";
  save_png(blank, at::full({300, 400, 3}, 200, at::kByte));
  test::expect_input_error([&] { portrait::prepare_portrait(blank, 128, {}, {}); }, blank.string(), "--no-crop");
  // A face that is not there.
  portrait::PortraitOptions o;
  o.face = 3;
  test::expect_input_error([&] { portrait::prepare_portrait(astronaut(), 128, {}, o); }, astronaut().string(),
                           "`thg faces` lists them");
  o = {};
  o.crop_scale = 9;
  test::expect_input_error([&] { portrait::prepare_portrait(astronaut(), 128, {}, o); }, "", "--crop-scale");
  o = {};
  o.framing = "wide";
  test::expect_input_error([&] { portrait::prepare_portrait(astronaut(), 128, {}, o); }, "", "--framing");
}

// The CLI end to end on a real photo: the video has the photo's size, --json names the face, and
// every bad input is one line and exit 2 with nothing left behind.
TEST(PortraitCli, GenerateAnimatesTheFaceInsideThePhoto) {
  test::ScratchDir dir;
  const std::string tiny = test::tiny_model_file().string();
  const fs::path out = dir / "out.mp4";
  auto r = test::run_thg({"generate", "-p", astronaut().string(), "-a", test::data("media/audio.m4a").string(), "-o",
                          out.string(), "--weights", tiny, "--device", "cpu", "--steps", "1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["width"], 512);
  EXPECT_EQ(j["height"], 512);
  EXPECT_EQ(j["face"]["index"], 0);
  EXPECT_GE(j["face"]["faces_found"].get<int>(), 1);
  const io::MediaInfo info = io::probe_media(out);
  EXPECT_EQ(info.width, 512);
  EXPECT_EQ(info.height, 512);
  EXPECT_TRUE(info.has_audio);

  const fs::path square = dir / "square.mp4";
  r = test::run_thg({"generate", "-p", astronaut().string(), "-a", test::data("media/audio.m4a").string(), "-o",
                     square.string(), "--weights", tiny, "--device", "cpu", "--steps", "1", "--framing", "square",
                     "--max-size", "128"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(io::probe_media(square).width, 128);
  EXPECT_EQ(io::probe_media(square).height, 128);

  // No face: exit 2, one line naming the photo and suggesting --no-crop; no output.
  const fs::path blank = dir / "blank.png";
  save_png(blank, at::full({300, 400, 3}, 200, at::kByte));
  const fs::path none = dir / "none.mp4";
  r = test::run_thg({"generate", "-p", blank.string(), "-a", test::data("media/audio.m4a").string(), "-o", none.string(),
                     "--weights", tiny, "--device", "cpu"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(blank.string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--no-crop"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(fs::exists(none));
  // ... and with --no-crop the same image is animated whole, as before.
  r = test::run_thg({"generate", "-p", blank.string(), "-a", test::data("media/audio.m4a").string(), "-o", none.string(),
                     "--weights", tiny, "--device", "cpu", "--steps", "1", "--no-crop", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["width"], 64);
  // A face index that does not exist.
  r = test::run_thg({"generate", "-p", astronaut().string(), "-a", test::data("media/audio.m4a").string(), "-o",
                     (dir / "x.mp4").string(), "--weights", tiny, "--device", "cpu", "--face", "7"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--face 7"), std::string::npos) << r.err;
  EXPECT_EQ(test::temporaries_under(dir.path()).size(), 0u);
}

// A 4000x4000 photo costs what a 512x512 one does once its face is cropped: its full-resolution
// copies (61 MiB as RGBA) are gone before generation, whose working set sets the peak. Both runs
// make the same 512x512 video, so the encoder's memory is the same.
TEST(PortraitCli, ALargePhotoPeaksWithinASmallOnesMemory) {
  if (test::kAddressSanitizer) GTEST_SKIP() << "peak RSS under AddressSanitizer's allocator says nothing";
  test::ScratchDir dir;
  const io::RgbaImage photo = io::decode_image_rgba(astronaut());
  const std::vector<uint8_t> big = io::resize_rgb(photo, {0, 0, 512, 512}, 4000, 4000);
  const fs::path large = dir / "large.png";
  io::write_png(large, big.data(), 4000, 4000);
  auto peak = [&](const fs::path& portrait) {
    return test::peak_rss_mib({"--quiet", "generate", "-p", portrait.string(), "-a", test::data("media/audio.m4a").string(),
                               "-o", (dir / "out.mp4").string(), "--weights", test::tiny_model_file().string(),
                               "--device", "cpu", "--steps", "1", "--max-size", "512"});
  };
  const double small_mib = peak(astronaut()), large_mib = peak(large);
  std::printf("peak RSS: 512x512 photo %.1f MiB, 4000x4000 photo %.1f MiB\n", small_mib, large_mib);
  EXPECT_LT(large_mib, small_mib + 16.0);
}

TEST(PortraitCli, FacesListsThemAndDrawsAPreview) {
  test::ScratchDir dir;
  const fs::path preview = dir / "faces.png";
  auto r = test::run_thg({"faces", astronaut().string(), "--json", "--preview", preview.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_GE(j["faces"].size(), 1u);
  EXPECT_EQ(j["faces"][0]["landmarks"].size(), 68u);
  const io::RgbaImage drawn = io::decode_image_rgba(preview);
  EXPECT_EQ(drawn.width, 512);
  r = test::run_thg({"faces", astronaut().string()});
  EXPECT_NE(r.out.find("face 0: box"), std::string::npos) << r.out;
  const fs::path blank = dir / "blank.png";
  save_png(blank, at::full({300, 400, 3}, 200, at::kByte));
  EXPECT_EQ(test::run_thg({"faces", blank.string()}).exit_code, 3);
  r = test::run_thg({"faces", astronaut().string(), "--preview", (dir / "p.jpg").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("p.jpg"), std::string::npos) << r.err;
  r = test::run_thg({"faces", (dir / "missing.png").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("missing.png"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace thg

namespace thg {
namespace {

// The synthetic faces' exact landmarks: the model's face template is where thg-synth puts the mean
// face, and every landmark lies on the feature the renderer drew.
TEST(PortraitSynth, ExactLandmarksOfRenderedFacesSitOnTheDrawnFeaturesAndDefineTheTemplate) {
  const int size = 512;
  double eye_y = 0, eye_d = 0, mouth_y = 0;
  const int n = 400;
  for (int i = 0; i < n; ++i) {
    const auto l = synth::face_landmarks(synth::random_identity(1000 + static_cast<uint64_t>(i)), {}, synth::rest_mouth(), size);
    auto unit = [&](Point p) { return Point{(p.x + 0.5) / size, (p.y + 0.5) / size}; };
    const Point el = unit(portrait::landmark_mean(l, 36, 41)), er = unit(portrait::landmark_mean(l, 42, 47));
    eye_y += (el.y + er.y) / 2 / n;
    eye_d += (er.x - el.x) / n;
    mouth_y += unit(portrait::landmark_mean(l, 48, 67)).y / n;
  }
  const portrait::FaceTemplate t;
  std::printf("synthetic mean face: eyes at y %.3f, %.3f apart; mouth at y %.3f\n", eye_y, eye_d, mouth_y);
  EXPECT_NEAR(t.eye_y, eye_y, 0.01);
  EXPECT_NEAR(t.eye_distance, eye_d, 0.01);
  EXPECT_NEAR(t.mouth_y, mouth_y, 0.01);

  // The landmarks sit on what the renderer drew, in any pose: the eye centres on the (black)
  // pupils, the mouth's centre in the dark interior of an open mouth, the lip corners on the lips.
  // (dlib's own landmark model is unreliable on these flat cartoon faces, so it is tested on real
  // photos above; these exact landmarks are the synthetic world's ground truth.)
  for (uint64_t seed : {11u, 12u, 13u, 14u}) {
    const synth::FaceIdentity face = synth::random_identity(seed);
    synth::HeadPose pose;
    pose.roll = 0.1 * (static_cast<double>(seed % 3) - 1);
    pose.dx = 0.03;
    pose.dy = -0.02;
    pose.scale = 0.9;
    synth::MouthShape mouth = synth::rest_mouth();
    mouth.open = 0.6;
    std::vector<uint8_t> rgb(static_cast<size_t>(size) * size * 3);
    synth::render_frame(face, pose, mouth, size, rgb.data());
    auto pixel = [&](Point p) {
      const size_t i = (static_cast<size_t>(std::lround(p.y)) * size + static_cast<size_t>(std::lround(p.x))) * 3;
      return std::array<int, 3>{rgb[i], rgb[i + 1], rgb[i + 2]};
    };
    const auto exact = synth::face_landmarks(face, pose, mouth, size);
    for (const Point eye : {portrait::landmark_mean(exact, 36, 41), portrait::landmark_mean(exact, 42, 47)}) {
      const auto c = pixel(eye);
      EXPECT_LT(c[0] + c[1] + c[2], 60) << "seed " << seed << ": eye centre is not on the pupil";
    }
    const auto inside = pixel(portrait::landmark_mean(exact, 48, 67));
    EXPECT_NEAR(inside[0], 31, 6) << seed;  // the interior's colour (0.12, 0.02, 0.04)
    EXPECT_NEAR(inside[1], 5, 6) << seed;
    for (size_t corner : {48u, 54u}) {
      // 3 px inside the corner (the corner itself is on the lips' anti-aliased edge).
      const auto lip = pixel({exact[corner].x + (corner == 48 ? 3.0 : -3.0), exact[corner].y});
      const auto skin = pixel({exact[corner].x + (corner == 48 ? -12.0 : 12.0), exact[corner].y});
      EXPECT_GT(std::abs(lip[0] - skin[0]) + std::abs(lip[1] - skin[1]) + std::abs(lip[2] - skin[2]), 20)
          << "seed " << seed << ": lip corner " << corner << " is not on the lips";
    }
  }
}

}  // namespace
}  // namespace thg

namespace thg {
namespace {

// The portrait settings are per batch row, and the report says which face each video animated.
TEST(PortraitCli, BatchRowsChooseCroppingAndReportTheFace) {
  test::ScratchDir dir;
  fs::copy(test::data("photos/astronaut.png"), dir / "astronaut.png");
  fs::copy(test::data("media/rgb8.png"), dir / "flat.png");
  fs::copy(test::data("media/audio.m4a"), dir / "speech.m4a");
  test::write_file(dir / "jobs.jsonl",
                   "{\"portrait\": \"astronaut.png\", \"audio\": \"speech.m4a\", \"output\": \"photo.mp4\", \"max_size\": 256}\n"
                   "{\"portrait\": \"astronaut.png\", \"audio\": \"speech.m4a\", \"output\": \"square.mp4\", \"framing\": \"square\", \"crop_scale\": 1.2}\n"
                   "{\"portrait\": \"flat.png\", \"audio\": \"speech.m4a\", \"output\": \"whole.mp4\", \"crop\": false}\n"
                   "{\"portrait\": \"flat.png\", \"audio\": \"speech.m4a\", \"output\": \"noface.mp4\"}\n"
                   "{\"portrait\": \"astronaut.png\", \"audio\": \"speech.m4a\", \"output\": \"x.mp4\", \"framing\": \"wide\"}\n");
  const auto r = test::run_thg({"batch", (dir / "jobs.jsonl").string(), "--output-dir", (dir / "out").string(), "--weights",
                                test::tiny_model_file().string(), "--device", "cpu", "--steps", "1", "--json"});
  EXPECT_EQ(r.exit_code, 3) << r.err;  // two rows fail, the others are done
  const nlohmann::json report = nlohmann::json::parse(test::read_file(dir / "out" / "report.json"));
  std::map<std::string, nlohmann::json> by_output;
  for (const auto& j : report["jobs"]) by_output[j["output"].get<std::string>()] = j;
  EXPECT_EQ(by_output["photo.mp4"]["status"], "done");
  EXPECT_EQ(by_output["photo.mp4"]["face"], 0);
  EXPECT_EQ(by_output["photo.mp4"]["width"], 256);
  EXPECT_FALSE(by_output["photo.mp4"]["face_box"].get<std::string>().empty());
  EXPECT_EQ(by_output["square.mp4"]["status"], "done");
  EXPECT_EQ(by_output["square.mp4"]["width"], by_output["square.mp4"]["height"]);
  EXPECT_EQ(by_output["whole.mp4"]["status"], "done");
  EXPECT_EQ(by_output["whole.mp4"]["face"], -1);
  EXPECT_EQ(by_output["whole.mp4"]["width"], 64);
  EXPECT_EQ(by_output["noface.mp4"]["status"], "failed");
  EXPECT_NE(by_output["noface.mp4"]["error"].get<std::string>().find("no face found"), std::string::npos);
  EXPECT_NE(by_output["x.mp4"]["error"].get<std::string>().find("framing"), std::string::npos);
  EXPECT_EQ(io::probe_media(dir / "out" / "photo.mp4").width, 256);
  EXPECT_FALSE(fs::exists(dir / "out" / "noface.mp4"));
  const std::string csv = test::read_file(dir / "out" / "report.csv");
  EXPECT_NE(csv.find("face,face_box,width,height"), std::string::npos);
}

// A face under 64 pixels is animated, with a warning that the result will be soft.
TEST(PortraitCli, ASmallFaceWarns) {
  test::ScratchDir dir;
  const io::RgbaImage photo = io::decode_image_rgba(astronaut());
  const std::vector<uint8_t> small = io::resize_rgb(photo, {0, 0, 512, 512}, 300, 300);  // face ~52 px
  io::write_png(dir / "small.png", small.data(), 300, 300);
  const auto r = test::run_thg({"generate", "-p", (dir / "small.png").string(), "-a", test::data("media/audio.m4a").string(),
                                "-o", (dir / "o.mp4").string(), "--weights", test::tiny_model_file().string(), "--device",
                                "cpu", "--steps", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("under 64): the result will be soft"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace thg
