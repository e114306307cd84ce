#include "train/adamw.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <map>

#include "core/error.h"

namespace thg::train {

AdamW::AdamW(NamedParams params, AdamWOptions options) : params_(std::move(params)), options_(options) {
  for (auto& [name, p] : params_) {
    m_.push_back(at::zeros_like(*p));
    v_.push_back(at::zeros_like(*p));
  }
}

void AdamW::zero_grad() {
  for (auto& [name, p] : params_)
    if (p->grad().defined()) p->mutable_grad() = at::Tensor();
}

double AdamW::step(double lr) {
  at::NoGradGuard no_grad;
  double norm2 = 0;
  for (auto& [name, p] : params_)
    if (p->grad().defined()) norm2 += p->grad().pow(2).sum().item<double>();
  const double norm = std::sqrt(norm2);
  const double clip = options_.grad_clip > 0 && norm > options_.grad_clip ? options_.grad_clip / (norm + 1e-12) : 1.0;
  ++step_;
  const double bc1 = 1.0 - std::pow(options_.beta1, static_cast<double>(step_));
  const double bc2 = 1.0 - std::pow(options_.beta2, static_cast<double>(step_));
  for (size_t i = 0; i < params_.size(); ++i) {
    at::Tensor& p = *params_[i].second;
    if (!p.grad().defined()) continue;
    at::Tensor g = p.grad() * clip;
    // Decoupled weight decay on matrices and kernels only (not on biases, norms, embeddings of dim 1).
    if (options_.weight_decay > 0 && p.dim() >= 2) p.mul_(1.0 - lr * options_.weight_decay);
    m_[i].mul_(options_.beta1).add_(g, 1.0 - options_.beta1);
    v_[i].mul_(options_.beta2).addcmul_(g, g, 1.0 - options_.beta2);
    at::Tensor denom = (v_[i] / bc2).sqrt_().add_(options_.eps);
    p.addcdiv_(m_[i], denom, -lr / bc1);
  }
  return norm;
}

std::vector<std::pair<std::string, at::Tensor>> AdamW::state() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (size_t i = 0; i < params_.size(); ++i) {
    out.emplace_back("m." + params_[i].first, m_[i]);
    out.emplace_back("v." + params_[i].first, v_[i]);
  }
  return out;
}

void AdamW::load_state(const std::vector<std::pair<std::string, at::Tensor>>& state, int64_t steps) {
  std::map<std::string, at::Tensor> by_name(state.begin(), state.end());
  at::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    for (auto [prefix, slot] : {std::pair{"m.", &m_[i]}, std::pair{"v.", &v_[i]}}) {
      auto it = by_name.find(prefix + params_[i].first);
      if (it == by_name.end() || !it->second.sizes().equals(slot->sizes()))
        throw Error::input("checkpoint", "optimizer state for " + params_[i].first + " is missing or mis-shaped");
      slot->copy_(it->second);
    }
  }
  step_ = steps;
}

Ema::Ema(const NamedParams& params, double decay) : decay_(decay) {
  at::NoGradGuard no_grad;
  for (const auto& [name, p] : params) {
    names_.push_back(name);
    shadow_.push_back(p->detach().clone());
  }
}

void Ema::update(const NamedParams& params) {
  at::NoGradGuard no_grad;
  // Warm-up as in common EMA implementations: early averages forget the random init quickly.
  ++updates_;
  const double d = std::min(decay_, (1.0 + static_cast<double>(updates_)) / (10.0 + static_cast<double>(updates_)));
  for (size_t i = 0; i < shadow_.size(); ++i) shadow_[i].lerp_(params[i].second->detach(), 1.0 - d);
}

void Ema::copy_to(const NamedParams& params) const {
  at::NoGradGuard no_grad;
  for (size_t i = 0; i < shadow_.size(); ++i) params[i].second->copy_(shadow_[i]);
}

std::vector<std::pair<std::string, at::Tensor>> Ema::state() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (size_t i = 0; i < shadow_.size(); ++i) out.emplace_back("ema." + names_[i], shadow_[i]);
  return out;
}

void Ema::load_state(const std::vector<std::pair<std::string, at::Tensor>>& state, int64_t updates) {
  std::map<std::string, at::Tensor> by_name(state.begin(), state.end());
  at::NoGradGuard no_grad;
  for (size_t i = 0; i < shadow_.size(); ++i) {
    auto it = by_name.find("ema." + names_[i]);
    if (it == by_name.end() || !it->second.sizes().equals(shadow_[i].sizes()))
      throw Error::input("checkpoint", "EMA weights for " + names_[i] + " are missing or mis-shaped");
    shadow_[i].copy_(it->second);
  }
  updates_ = updates;
}

}  // namespace thg::train
