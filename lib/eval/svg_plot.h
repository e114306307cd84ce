#pragma once
// Line charts as standalone SVG (no dependencies, readable in any browser): one line per series,
// axes with rounded ticks, optional log2 x axis, a legend. For benchmark reports.
#include <string>
#include <utility>
#include <vector>

namespace thg::eval {

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), drawn in the given order
};

struct LineChart {
  std::string title, x_label, y_label;
  bool log_x = false;  // log2 x axis (step counts, evaluations)
  std::vector<Series> series;
};

std::string render_svg(const LineChart& chart);

}  // namespace thg::eval
