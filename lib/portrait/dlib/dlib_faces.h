#pragma once
// The only code that sees dlib, built as its own shared library (thg_dlib). Debian's dlib turns on
// its BLAS/LAPACK bindings, so whatever is compiled against its headers needs the system's
// reference libblas.so.3. Linked into the executable directly, that library is loaded ahead of
// LibTorch and overrides LibTorch's exported sgemm_, making every CPU matrix product about 10x
// slower (tests/unit/test_linking.cpp). As a dependency of this shared library it loads after
// LibTorch and only dlib uses it. Plain types in, plain types out; errors are std::runtime_error.
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace thg::portrait::dlib_faces {

struct GrayView {
  const uint8_t* pixels = nullptr;  // row-major, width * height
  int width = 0, height = 0;
};

struct Detection {
  long left = 0, top = 0, right = 0, bottom = 0;  // inclusive pixel rectangle
  double score = 0;                               // the HOG detector's confidence
};

// dlib's frontal-face HOG detector (its threshold, adjust 0).
std::vector<Detection> detect(const GrayView& image);

// The 68 landmarks (pixel coordinates) of the face in the rectangle, by the shape predictor in
// `model_path` (loaded once per process and path).
std::array<std::pair<double, double>, 68> landmarks(const GrayView& image, long left, long top, long right, long bottom,
                                                    const std::string& model_path);

}  // namespace thg::portrait::dlib_faces
