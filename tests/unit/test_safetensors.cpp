// safetensors: round trip of every dtype, and each class of malformed or malicious file is a clean
// Error::input naming the file (never a crash or a huge allocation).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "io/safetensors.h"
#include "test_util.h"

namespace thg {
namespace {

std::string le64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}

// A file image: 8-byte length, the header text, then `data_bytes` zero bytes.
std::string file_image(const std::string& header, size_t data_bytes) {
  return le64(header.size()) + header + std::string(data_bytes, '\0');
}

// Expects parsing `bytes` to fail with a message containing `needle`.
void expect_rejected(const std::string& bytes, const std::string& needle) {
  test::expect_input_error([&] { io::parse_safetensors_bytes(bytes, "evil.safetensors"); }, "evil.safetensors",
                           needle);
}

TEST(Safetensors, RoundTripsEveryDtypeAndMetadata) {
  test::ScratchDir dir;
  std::vector<std::pair<std::string, at::Tensor>> tensors = {
      {"f32", at::randn({3, 4})},
      {"f16", at::randn({5}).to(at::kHalf)},
      {"bf16", at::randn({2, 2, 2}).to(at::kBFloat16)},
      {"f64", at::randn({7}, at::kDouble)},
      {"i64", at::arange(10, at::kLong)},
      {"i32", at::arange(6, at::kInt).view({2, 3})},
      {"i16", at::arange(4, at::kShort)},
      {"i8", at::arange(-3, 3, at::kChar)},
      {"u8", at::arange(9, at::kByte)},
      {"bool", at::tensor({1, 0, 1}).to(at::kBool)},
      {"scalar", at::tensor(3.5f)},
      {"empty", at::empty({0, 4})},
  };
  io::write_safetensors(dir / "all.safetensors", tensors, {{"author", "thg"}, {"note", "ünïcode"}});
  io::SafetensorsFile f = io::SafetensorsFile::open(dir / "all.safetensors");
  ASSERT_EQ(f.tensors().size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    at::Tensor back = f.load(name);
    EXPECT_EQ(back.scalar_type(), t.scalar_type()) << name;
    EXPECT_EQ(back.sizes(), t.sizes()) << name;
    EXPECT_TRUE(at::equal(back, t)) << name;
  }
  EXPECT_EQ(f.metadata().at("author"), "thg");
  EXPECT_EQ(f.metadata().at("note"), "ünïcode");
  EXPECT_EQ(dir.entries().size(), 1u) << "no temporary file may remain";
}

TEST(Safetensors, ReadsMisalignedData) {
  // A header of length 1 (mod 4) puts the float data at an offset that is not 4-byte aligned.
  // Files from other writers may do this; the reader must copy, not reinterpret.
  std::string header = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  while (header.size() % 4 != 1) header += ' ';
  std::string bytes = le64(header.size()) + header;
  float values[2] = {1.5f, -2.25f};
  bytes.append(reinterpret_cast<const char*>(values), sizeof values);
  test::ScratchDir dir;
  test::write_file(dir / "m.safetensors", bytes);
  auto f = io::SafetensorsFile::open(dir / "m.safetensors");
  at::Tensor x = f.load("x");
  EXPECT_FLOAT_EQ(x[0].item<float>(), 1.5f);
  EXPECT_FLOAT_EQ(x[1].item<float>(), -2.25f);
}

TEST(Safetensors, RejectsTruncatedLength) { expect_rejected("abc", "shorter than the 8-byte"); }

TEST(Safetensors, RejectsLengthPastEnd) { expect_rejected(le64(1000) + "{}", "past the end"); }

TEST(Safetensors, RejectsHugeLength) {
  // Claims ~18 EB: must be refused before any allocation.
  expect_rejected(le64(~0ULL) + "{}", "exceeds the 100 MB limit");
  expect_rejected(le64(100'000'001ULL) + "{}", "exceeds the 100 MB limit");
}

TEST(Safetensors, RejectsBadJson) {
  expect_rejected(file_image("{\"a\": ", 0), "not valid JSON");
  expect_rejected(file_image("[1,2]", 0), "does not start with '{'");
  expect_rejected(file_image("{\"a\": 1}", 0), "is not an object");
}

TEST(Safetensors, RejectsDeepNesting) {
  std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  expect_rejected(file_image(deep, 0), "nested too deeply");
}

TEST(Safetensors, RejectsUnknownDtype) {
  expect_rejected(file_image(R"({"x":{"dtype":"F8_E9","shape":[1],"data_offsets":[0,1]}})", 1), "unsupported dtype");
}

TEST(Safetensors, RejectsNegativeOrOverflowingShape) {
  expect_rejected(file_image(R"({"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4), "negative");
  expect_rejected(
      file_image(R"({"x":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}})", 4), "overflows");
  expect_rejected(file_image(R"({"x":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8]}})", 8),
                  "overflows");
}

TEST(Safetensors, RejectsBadOffsets) {
  // Out of bounds.
  expect_rejected(file_image(R"({"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8), "past the end");
  // Reversed.
  expect_rejected(file_image(R"({"x":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}})", 4), "reversed");
  // Overlapping.
  expect_rejected(file_image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                             12),
                  "overlaps");
  // Size not matching the shape.
  expect_rejected(file_image(R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "needs 12");
  // A gap, and unused trailing bytes.
  expect_rejected(file_image(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8), "gap");
  expect_rejected(file_image(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 8), "unused bytes");
  // Offsets that are not unsigned integers.
  expect_rejected(file_image(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,-4]}})", 4), "data_offsets");
}

TEST(Safetensors, RejectsBadMetadataAndFields) {
  expect_rejected(file_image(R"({"__metadata__":{"a":1}})", 0), "not a string");
  expect_rejected(file_image(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}})", 4),
                  "unknown field");
}

TEST(Safetensors, OpenReportsFileProblems) {
  test::ScratchDir dir;
  try {
    io::SafetensorsFile::open(dir / "missing.safetensors");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.safetensors: file not found"), std::string::npos) << e.what();
  }
  test::write_file(dir / "empty.safetensors", "");
  test::expect_input_error([&] { io::SafetensorsFile::open(dir / "empty.safetensors"); },
                           (dir / "empty.safetensors").string(), "file is empty");
  test::write_file(dir / "trunc.safetensors",
                   file_image(R"({"x":{"dtype":"F32","shape":[100],"data_offsets":[0,400]}})", 40));
  test::expect_input_error([&] { io::SafetensorsFile::open(dir / "trunc.safetensors"); },
                           (dir / "trunc.safetensors").string(), "entry 'x' points past the end of the file");
}

// JSON allows a repeated key and most parsers keep the last one; the safetensors format forbids
// it. A header that names a tensor twice could load one tensor here and another in a reader that
// keeps the first, so it is refused, at every level of the header.
TEST(Safetensors, RejectsDuplicateKeys) {
  const std::string x = R"("x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]})";
  expect_rejected(file_image("{" + x + "," + x + "}", 4), "header names 'x' twice");
  expect_rejected(file_image(R"({"__metadata__":{"a":"1"},"__metadata__":{"a":"2"}})", 0),
                  "header names '__metadata__' twice");
  expect_rejected(file_image(R"({"__metadata__":{"a":"1","a":"2"}})", 0), "header names 'a' twice");
  expect_rejected(file_image(R"({"x":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}})", 4),
                  "header names 'dtype' twice");
  // The same key in two different objects is not a duplicate.
  EXPECT_NO_THROW(io::parse_safetensors_bytes(
      file_image(R"({"__metadata__":{"x":"1"},"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4), "ok"));
}

}  // namespace
}  // namespace thg
