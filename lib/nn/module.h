#pragma once
// A small module system over ATen tensors. Why not torch::nn: its headers cost ~20 s per file to
// compile, and THG needs exact control of parameter names (diffusers' layout, so SD-family
// checkpoints load as they are) more than it needs torch::nn's features. Autograd still works
// on these parameters (training sets requires_grad on them).
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace at {
class Generator;
}

namespace thg::nn {

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  // Registered members are referenced by address: modules are neither copied nor moved.
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // All parameters, depth first, with dotted names ("down_blocks.0.resnets.1.conv1.weight").
  std::vector<std::pair<std::string, at::Tensor*>> named_parameters();
  int64_t parameter_count();
  // Moves/casts every parameter.
  void to(c10::Device device, c10::ScalarType dtype);
  // Re-initialises every parameter (recursively) from `generator`.
  void reset_parameters(at::Generator& generator);

 protected:
  at::Tensor& register_parameter(std::string name, at::Tensor& slot, at::Tensor value);
  template <class M>
  M& register_module(std::string name, M& child) {
    children_.emplace_back(std::move(name), &child);
    return child;
  }
  // Leaf initialisation of this module's own parameters (children are handled by the caller).
  virtual void init_own_parameters(at::Generator& generator);

 private:
  void collect(const std::string& prefix, std::vector<std::pair<std::string, at::Tensor*>>& out);
  std::vector<std::pair<std::string, at::Tensor*>> params_;
  std::vector<std::pair<std::string, Module*>> children_;
};

// An indexed list of owned modules, named "0", "1", ... like torch.nn.ModuleList.
template <class M>
class ModuleList : public Module {
 public:
  template <class... Args>
  M& emplace_back(Args&&... args) {
    items_.push_back(std::make_unique<M>(std::forward<Args>(args)...));
    return register_module(std::to_string(items_.size() - 1), *items_.back());
  }
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  M& operator[](size_t i) { return *items_[i]; }
  const M& operator[](size_t i) const { return *items_[i]; }

 private:
  std::vector<std::unique_ptr<M>> items_;
};

// Initialisers shared by the layers (PyTorch's defaults, drawn from an explicit generator).
void init_uniform(at::Tensor& t, double bound, at::Generator& generator);

}  // namespace thg::nn
