#include "nn/module.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

namespace thg::nn {

at::Tensor& Module::register_parameter(std::string name, at::Tensor& slot, at::Tensor value) {
  slot = std::move(value);
  params_.emplace_back(std::move(name), &slot);
  return slot;
}

void Module::collect(const std::string& prefix, std::vector<std::pair<std::string, at::Tensor*>>& out) {
  for (auto& [name, tensor] : params_) out.emplace_back(prefix + name, tensor);
  for (auto& [name, child] : children_) child->collect(prefix + name + ".", out);
}

std::vector<std::pair<std::string, at::Tensor*>> Module::named_parameters() {
  std::vector<std::pair<std::string, at::Tensor*>> out;
  collect("", out);
  return out;
}

int64_t Module::parameter_count() {
  int64_t n = 0;
  for (auto& [name, t] : named_parameters()) n += t->numel();
  return n;
}

void Module::to(c10::Device device, c10::ScalarType dtype) {
  for (auto& [name, t] : named_parameters()) *t = t->to(device, dtype);
}

void Module::reset_parameters(at::Generator& generator) {
  init_own_parameters(generator);
  for (auto& [name, child] : children_) child->reset_parameters(generator);
}

void Module::init_own_parameters(at::Generator&) {}

void init_uniform(at::Tensor& t, double bound, at::Generator& generator) {
  at::NoGradGuard no_grad;
  t.uniform_(-bound, bound, generator);
}

}  // namespace thg::nn
