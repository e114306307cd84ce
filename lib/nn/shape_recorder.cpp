#include "nn/shape_recorder.h"

#include <algorithm>

namespace thg::nn {

namespace {
thread_local ShapeRecorder* t_recorder = nullptr;

template <typename Shape>
void add_distinct(std::vector<Shape>& shapes, const Shape& shape) {
  if (std::find(shapes.begin(), shapes.end(), shape) == shapes.end()) shapes.push_back(shape);
}
}  // namespace

ShapeRecorder::ShapeRecorder() : previous_(t_recorder) { t_recorder = this; }
ShapeRecorder::~ShapeRecorder() { t_recorder = previous_; }

void ShapeRecorder::record_attention(const std::array<int64_t, 5>& shape) {
  if (t_recorder) add_distinct(t_recorder->attention, shape);
}

void ShapeRecorder::record_group_norm(const std::array<int64_t, 4>& shape) {
  if (t_recorder) add_distinct(t_recorder->group_norm, shape);
}

}  // namespace thg::nn
