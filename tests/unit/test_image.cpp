// Image decoding through FFmpeg: every promised format decodes to the right pixels; resizing and
// cropping; alpha compositing; bad images are clean errors.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "io/image.h"
#include "test_util.h"

namespace thg {
namespace {

// Fixtures are 64x48: left half one colour, right half another.
struct Case {
  const char* file;
  std::array<float, 3> left, right;
  float tolerance;  // lossy codecs blur the edge and shift colours a little
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.file; }

class ImageFormats : public ::testing::TestWithParam<Case> {};

TEST_P(ImageFormats, DecodesToExpectedColours) {
  const Case c = GetParam();
  io::RgbaImage raw = io::decode_image_rgba(test::data(std::string("media/") + c.file));
  EXPECT_EQ(raw.width, 64);
  EXPECT_EQ(raw.height, 48);

  // 64x48 -> shorter side 48 -> 48x... then centre crop 48x48 (columns 8..56 of the original).
  io::ImageLoadOptions options;
  options.size = 48;
  at::Tensor img = io::load_image(test::data(std::string("media/") + c.file), options);
  ASSERT_EQ(img.sizes(), (std::vector<int64_t>{3, 48, 48}));
  EXPECT_GE(img.min().item<float>(), 0.f);
  EXPECT_LE(img.max().item<float>(), 1.f);
  // Sample well inside each half (away from the edge that lossy codecs smear).
  for (int ch = 0; ch < 3; ++ch) {
    EXPECT_NEAR(img[ch][24][6].item<float>(), c.left[ch], c.tolerance) << c.file << " channel " << ch;
    EXPECT_NEAR(img[ch][24][42].item<float>(), c.right[ch], c.tolerance) << c.file << " channel " << ch;
  }
}

constexpr std::array<float, 3> kRed{1, 0, 0}, kBlue{0, 0, 1}, kWhite{1, 1, 1};
constexpr std::array<float, 3> kDark{50 / 255.f, 50 / 255.f, 50 / 255.f}, kLight{200 / 255.f, 200 / 255.f, 200 / 255.f};

INSTANTIATE_TEST_SUITE_P(AllFormats, ImageFormats,
                         ::testing::Values(Case{"rgb8.png", kRed, kBlue, 0.01f}, Case{"rgb16.png", kRed, kBlue, 0.01f},
                                           Case{"gray8.png", kDark, kLight, 0.01f},
                                           Case{"gray16.png", kDark, kLight, 0.01f},
                                           Case{"palette.png", kRed, kBlue, 0.01f},
                                           // transparent right half composited on the white background
                                           Case{"rgba.png", kRed, kWhite, 0.01f},
                                           Case{"baseline.jpg", kRed, kBlue, 0.08f},
                                           Case{"progressive.jpg", kRed, kBlue, 0.08f},
                                           Case{"cmyk.jpg", kRed, kBlue, 0.12f},
                                           Case{"image.webp", kRed, kBlue, 0.08f},
                                           Case{"image.bmp", kRed, kBlue, 0.01f}),
                         [](const auto& info) {
                           std::string n = info.param.file;
                           for (auto& ch : n)
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

TEST(Image, UpscalesAndCropsToTheModelSize) {
  io::ImageLoadOptions options;
  options.size = 128;
  at::Tensor img = io::load_image(test::data("media/rgb8.png"), options);
  ASSERT_EQ(img.sizes(), (std::vector<int64_t>{3, 128, 128}));
  EXPECT_NEAR(img[0][64][10].item<float>(), 1.f, 0.02f);
  EXPECT_NEAR(img[2][64][118].item<float>(), 1.f, 0.02f);
}

TEST(Image, BackgroundColourIsConfigurable) {
  io::ImageLoadOptions options;
  options.size = 48;
  options.background = {0.f, 1.f, 0.f};
  at::Tensor img = io::load_image(test::data("media/rgba.png"), options);
  EXPECT_NEAR(img[1][24][42].item<float>(), 1.f, 0.01f);
  EXPECT_NEAR(img[0][24][42].item<float>(), 0.f, 0.01f);
}

void expect_bad_image(const std::filesystem::path& path, const std::string& needle) {
  test::expect_input_error([&] { io::load_image(path, io::ImageLoadOptions{}); }, path.string(), needle);
}

TEST(Image, RejectsBadInputs) {
  test::ScratchDir dir;
  expect_bad_image(dir / "missing.png", "file not found");
  test::write_file(dir / "empty.png", "");
  expect_bad_image(dir / "empty.png", "empty");
  test::write_file(dir / "text.png", std::string(500, 'x'));
  expect_bad_image(dir / "text.png", "corrupt image data");
  const std::string png = test::read_file(test::data("media/rgb8.png"));
  test::write_file(dir / "truncated.png", png.substr(0, png.size() / 2));
  expect_bad_image(dir / "truncated.png", "corrupt image data");
  expect_bad_image(test::data("media/small_20px.png"), "at least 32 px");
  expect_bad_image(test::data("media/s16_16k_mono.wav"), "contains no image");
}

// PNG's chunk checksum (CRC-32, polynomial 0xEDB88320), so a doctored header is otherwise valid.
uint32_t png_crc(const std::string& bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char b : bytes) {
    crc ^= b;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

TEST(Image, RejectsHugeDimensionsBeforeDecodingAndSaysSo) {
  // A valid PNG whose IHDR claims 20000x20000 (with a correct checksum) and the original small
  // image data: FFmpeg's own size check reports it as 0x0, so the size must come from the header.
  std::string png = test::read_file(test::data("media/rgb8.png"));
  auto put = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) png[at + i] = static_cast<char>(v >> (24 - 8 * i));
  };
  put(16, 20000);  // IHDR width and height (big endian) at bytes 16..23, its CRC at 29..32
  put(20, 20000);
  put(29, png_crc(png.substr(12, 17)));
  test::ScratchDir dir;
  test::write_file(dir / "huge.png", png);
  expect_bad_image(dir / "huge.png", "20000x20000 is larger than the limit of 16384 px per side and 64 megapixels");
  // Within FFmpeg's own check but over ours: 9000x9000 = 81 megapixels.
  put(16, 9000);
  put(20, 9000);
  put(29, png_crc(png.substr(12, 17)));
  test::write_file(dir / "big.png", png);
  expect_bad_image(dir / "big.png", "9000x9000 is larger than the limit");
}

}  // namespace
}  // namespace thg
