// thg-bench-kernels: THG's fused CUDA kernels against LibTorch on the model's real shapes, and the
// UNet step with each backend. Run on a GPU machine (benchmarks/device-run.sh); writes
// kernels_<gpu>_<dtype>_<date>.{json,md,csv} with device, date and commit. Every figure is measured in this
// run: the attention kernels against each SDPA backend (flash, efficient, cuDNN, math), the
// share of the peak against a large fp16/bf16 GEMM timed here, not a datasheet number.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>
#include <c10/core/InferenceMode.h>
#include <torch/headeronly/version.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <iostream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/machine.h"
#include "model/config.h"
#include "model/talking_head.h"
#include "nn/attention.h"
#include "nn/fused_kernels.h"
#include "nn/layers.h"
#include "nn/shape_recorder.h"

namespace {

using namespace thg;
using json = nlohmann::json;

// Median milliseconds per call: CUDA events around `inner` back-to-back calls, after warm-up, so
// that launch gaps are amortised as they are inside a denoising step.
double median_ms(const std::function<void()>& fn, int repeats, int inner) {
  for (int i = 0; i < 3; ++i) fn();
  at::cuda::getCurrentCUDAStream().synchronize();
  std::vector<double> ms;
  for (int r = 0; r < repeats; ++r) {
    at::cuda::CUDAEvent start(cudaEventDefault), stop(cudaEventDefault);
    start.record();
    for (int i = 0; i < inner; ++i) fn();
    stop.record();
    stop.synchronize();
    ms.push_back(start.elapsed_time(stop) / inner);
  }
  return median(ms);
}

// Runs `fn` and times it; on an error (a backend that refuses the shape) returns the reason.
json timed(const std::function<void()>& fn, int repeats, int inner, double flops) {
  try {
    const double ms = median_ms(fn, repeats, inner);
    json j = {{"ms", ms}};
    if (flops > 0) j["tflops"] = flops / (ms * 1e-3) / 1e12;
    return j;
  } catch (const std::exception& e) {
    std::string why = e.what();
    why = why.substr(0, why.find('\n'));
    return {{"error", why}};
  }
}

double measured_peak_tflops(at::ScalarType dtype) {
  const int64_t n = 8192;
  const auto options = at::TensorOptions().device(at::kCUDA).dtype(dtype);
  at::Tensor a = at::randn({n, n}, options), b = at::randn({n, n}, options);
  const double ms = median_ms([&] { at::matmul(a, b); }, 10, 5);
  return 2.0 * n * n * n / (ms * 1e-3) / 1e12;
}

std::string today() {
  std::time_t t = std::time(nullptr);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", std::gmtime(&t));
  return buf;
}

std::string slug(std::string s) {
  for (char& c : s) c = std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '-';
  return s;
}

struct Options {
  std::vector<std::string> configs{"pixel-latent", "sd15"};
  std::string dtype = "fp16";
  int groups = 3;  // guidance branches batched into one forward
  int repeats = 20;
  std::string out = "benchmarks/results";
  std::string commit = "unknown";
  std::string root = ".";
};

json bench_config(const std::string& name, const Options& o, at::ScalarType dtype, double peak) {
  c10::InferenceMode inference;
  const auto cfg = model::load_model_config(std::filesystem::path(o.root) / "configs" / (name + ".yaml"));
  auto model = model::TalkingHeadModel::random(cfg, 7);
  model->to(at::kCUDA, dtype);
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(7);
  const auto options = at::TensorOptions().device(at::kCUDA).dtype(dtype);
  const int64_t frames = cfg.generation.chunk_frames, batch = o.groups * frames, lat = cfg.latent_size(cfg.image_size);
  at::Tensor reference = at::randn({1, cfg.vae.latent_channels, lat, lat}, g).to(options);
  at::Tensor tokens = model->reference_tokens(reference);
  at::Tensor audio = model->audio_tokens(at::randn({batch, cfg.audio.mel.n_mels, model->audio_window()}, g));
  at::Tensor noisy = at::randn({batch, cfg.vae.latent_channels, lat, lat}, g).to(options);
  at::Tensor t = at::full({batch}, 500.0, options);
  auto step = [&] { model->denoise(noisy, t, reference, tokens, audio, frames); };

  nn::ShapeRecorder shapes;
  nn::set_attention_backend(nn::AttentionBackend::Sdpa);
  step();
  json result = {{"config", name}, {"image_size", cfg.image_size}, {"frames", frames}, {"batch", batch}};

  for (const auto& [b, h, lq, lk, d] : shapes.attention) {
    at::Tensor q = at::randn({b, lq, h, d}, g).to(options).transpose(1, 2);  // as the module lays them out
    at::Tensor k = at::randn({b, lk, h, d}, g).to(options).transpose(1, 2);
    at::Tensor v = at::randn({b, lk, h, d}, g).to(options).transpose(1, 2);
    const double flops = 4.0 * b * h * lq * lk * d;
    json row = {{"shape", {{"batch", b}, {"heads", h}, {"query_len", lq}, {"key_len", lk}, {"head_dim", d}}}};
    row["fused"] = timed([&] { nn::fused_attention(q, k, v); }, o.repeats, 10, flops);
    row["sdpa_flash"] = timed([&] { at::_scaled_dot_product_flash_attention(q, k, v); }, o.repeats, 10, flops);
    row["sdpa_efficient"] = timed([&] { at::_scaled_dot_product_efficient_attention(q, k, v, {}, false); }, o.repeats, 10, flops);
    row["sdpa_cudnn"] = timed([&] { at::_scaled_dot_product_cudnn_attention(q, k, v, {}, false); }, o.repeats, 10, flops);
    row["sdpa_math"] = timed([&] { at::_scaled_dot_product_attention_math(q, k, v); }, o.repeats, 3, flops);
    double best = 1e300;
    std::string best_name;
    for (const char* n : {"sdpa_flash", "sdpa_efficient", "sdpa_cudnn", "sdpa_math"})
      if (row[n].contains("ms") && row[n]["ms"].get<double>() < best) {
        best = row[n]["ms"];
        best_name = n;
      }
    row["best_sdpa"] = best_name;
    if (row["fused"].contains("ms")) {
      row["speedup_vs_best_sdpa"] = best / row["fused"]["ms"].get<double>();
      row["fused"]["share_of_peak"] = row["fused"]["tflops"].get<double>() / peak;
    }
    result["attention"].push_back(row);
  }
  for (const auto& [n, c, spatial, groups] : shapes.group_norm) {
    at::Tensor x = at::randn({n, c, spatial}, g).to(options);
    at::Tensor w = at::randn({c}, g).to(options), bias = at::randn({c}, g).to(options);
    const double bytes = 2.0 * x.numel() * x.element_size();
    json row = {{"shape", {{"batch", n}, {"channels", c}, {"spatial", spatial}, {"groups", groups}}}};
    row["fused"] = timed([&] { nn::fused_group_norm(x, groups, w, bias, 1e-5, true); }, o.repeats, 10, 0);
    row["torch"] = timed([&] { at::silu(at::group_norm(x, groups, w, bias, 1e-5)); }, o.repeats, 10, 0);
    for (const char* k : {"fused", "torch"})
      if (row[k].contains("ms")) row[k]["gb_per_s"] = bytes / (row[k]["ms"].get<double>() * 1e-3) / 1e9;
    if (row["fused"].contains("ms") && row["torch"].contains("ms"))
      row["speedup"] = row["torch"]["ms"].get<double>() / row["fused"]["ms"].get<double>();
    result["group_norm_silu"].push_back(row);
  }
  for (auto backend : {nn::AttentionBackend::Sdpa, nn::AttentionBackend::Fused, nn::AttentionBackend::Auto}) {
    nn::set_attention_backend(backend);
    json row = timed(step, std::max(5, o.repeats / 4), 1, 0);
    if (row.contains("ms")) row["ms_per_frame"] = row["ms"].get<double>() / batch;
    result["unet_step"][nn::attention_backend_name(backend)] = row;
  }
  nn::set_attention_backend(nn::AttentionBackend::Auto);
  return result;
}

std::string fmt(const json& cell, const char* key, int precision = 3) {
  if (!cell.contains(key)) return cell.contains("error") ? "n/a" : "";
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(precision);
  s << cell[key].get<double>();
  return s.str();
}

std::string markdown(const json& report) {
  std::ostringstream md;
  const json& m = report["machine"];
  md << "# Fused kernels vs LibTorch (" << m["gpu"].get<std::string>() << ")\n\n"
     << "Date " << m["date"].get<std::string>() << ", commit " << m["commit"].get<std::string>() << ", torch "
     << m["torch"].get<std::string>() << ", " << m["dtype"].get<std::string>() << ". Measured peak (an 8192^3 GEMM in this run): "
     << fmt(m, "peak_tflops", 1) << " TFLOP/s. Median of CUDA-event timings after warm-up.\n";
  if (!report.value("complete", true))
    md << "\n**Partial report**: written after each config; the run has not finished (or was cut short).\n";
  for (const json& c : report["configs"]) {
    if (c.contains("error")) {
      md << "\n## " << c["config"].get<std::string>() << ": failed (" << c["error"].get<std::string>() << ")\n";
      continue;
    }
    md << "\n## " << c["config"].get<std::string>() << " (" << c["image_size"] << "x" << c["image_size"] << ", batch "
       << c["batch"] << " = " << report["options"]["groups"] << " guidance branches x " << c["frames"] << " frames)\n\n"
       << "### Attention (ms; fused TFLOP/s and share of the measured peak)\n\n"
       << "| B | H | Lq | Lk | D | fused | flash | efficient | cuDNN | math | fused TFLOP/s | share of peak | best SDPA / fused |\n"
       << "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (const json& r : c["attention"]) {
      const json& s = r["shape"];
      md << "| " << s["batch"] << " | " << s["heads"] << " | " << s["query_len"] << " | " << s["key_len"] << " | "
         << s["head_dim"] << " | " << fmt(r["fused"], "ms") << " | " << fmt(r["sdpa_flash"], "ms") << " | "
         << fmt(r["sdpa_efficient"], "ms") << " | " << fmt(r["sdpa_cudnn"], "ms") << " | " << fmt(r["sdpa_math"], "ms")
         << " | " << fmt(r["fused"], "tflops", 1) << " | " << fmt(r["fused"], "share_of_peak", 2) << " | "
         << fmt(r, "speedup_vs_best_sdpa", 2) << " |\n";
    }
    md << "\n### GroupNorm + SiLU (ms, GB/s)\n\n| N | C | spatial | groups | fused | torch | fused GB/s | speedup |\n"
       << "|---|---|---|---|---|---|---|---|\n";
    for (const json& r : c["group_norm_silu"]) {
      const json& s = r["shape"];
      md << "| " << s["batch"] << " | " << s["channels"] << " | " << s["spatial"] << " | " << s["groups"] << " | "
         << fmt(r["fused"], "ms") << " | " << fmt(r["torch"], "ms") << " | " << fmt(r["fused"], "gb_per_s", 0) << " | "
         << fmt(r, "speedup", 2) << " |\n";
    }
    md << "\n### UNet step (one forward of the whole batch)\n\n| backend | ms | ms per frame |\n|---|---|---|\n";
    for (const auto& [backend, row] : c["unet_step"].items())
      md << "| " << backend << " | " << fmt(row, "ms") << " | " << fmt(row, "ms_per_frame") << " |\n";
  }
  return md.str();
}

// One CSV row per (config, kernel, shape, implementation): the tables above, flat for plotting.
std::string csv(const json& report) {
  std::ostringstream out;
  out << "config,kernel,batch,heads_or_channels,query_len_or_spatial,key_len_or_groups,head_dim,implementation,ms,tflops,gb_per_s\n";
  auto cell = [](const json& j, const char* key) { return j.contains(key) ? std::to_string(j[key].get<double>()) : std::string(); };
  for (const json& c : report["configs"]) {
    if (c.contains("error")) continue;
    const std::string config = c["config"];
    for (const json& r : c.value("attention", json::array())) {
      const json& s = r["shape"];
      for (const char* impl : {"fused", "sdpa_flash", "sdpa_efficient", "sdpa_cudnn", "sdpa_math"})
        out << config << ",attention," << s["batch"] << ',' << s["heads"] << ',' << s["query_len"] << ',' << s["key_len"]
            << ',' << s["head_dim"] << ',' << impl << ',' << cell(r[impl], "ms") << ',' << cell(r[impl], "tflops") << ",\n";
    }
    for (const json& r : c.value("group_norm_silu", json::array())) {
      const json& s = r["shape"];
      for (const char* impl : {"fused", "torch"})
        out << config << ",group_norm_silu," << s["batch"] << ',' << s["channels"] << ',' << s["spatial"] << ','
            << s["groups"] << ",," << impl << ',' << cell(r[impl], "ms") << ",," << cell(r[impl], "gb_per_s") << '\n';
    }
    for (const auto& [backend, row] : c["unet_step"].items())
      out << config << ",unet_step," << c["batch"] << ",,,,," << backend << ',' << cell(row, "ms") << ",,\n";
  }
  return out.str();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"thg-bench-kernels: THG's fused CUDA kernels vs LibTorch on the models' real shapes (needs a GPU)"};
  app.add_option("--configs", o.configs, "model configs (configs/<name>.yaml)")->delimiter(',');
  app.add_option("--dtype", o.dtype, "fp16 or bf16")->check(CLI::IsMember({"fp16", "bf16"}));
  app.add_option("--groups", o.groups, "guidance branches batched per forward")->check(CLI::Range(1, 8));
  app.add_option("--repeats", o.repeats, "timed repeats per measurement")->check(CLI::Range(3, 1000));
  app.add_option("--out", o.out, "folder for kernels_<gpu>_<dtype>_<date>.{json,md,csv}");
  app.add_option("--commit", o.commit, "commit measured (recorded in the report)");
  app.add_option("--root", o.root, "source tree (for configs/)");
  CLI11_PARSE(app, argc, argv);
  try {
    if (!nn::fused_kernels_built()) throw Error::input("", "this build has no CUDA kernels");
    if (!at::hasCUDA()) throw Error::input("", "no CUDA device: run this on the GPU machine (benchmarks/device-run.sh)");
    const at::ScalarType dtype = o.dtype == "bf16" ? at::kBFloat16 : at::kHalf;
    const auto* props = at::cuda::getCurrentDeviceProperties();
    const double peak = measured_peak_tflops(dtype);
    json report = {{"machine",
                    {{"gpu", props->name}, {"sm_count", props->multiProcessorCount}, {"date", today()},
                     {"commit", o.commit}, {"torch", std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." + std::to_string(TORCH_VERSION_PATCH)}, {"dtype", o.dtype}, {"peak_tflops", peak}}},
                   {"options", {{"groups", o.groups}, {"repeats", o.repeats}}}};
    // The report is rewritten (JSON, Markdown, CSV, each swapped in whole) after every config, so a
    // run cut short (device-run.sh's stage timeout) loses at most the config it was measuring.
    const std::filesystem::path stem =
        std::filesystem::path(o.out) / ("kernels_" + slug(props->name) + "_" + o.dtype + "_" + today());
    std::filesystem::create_directories(o.out);
    auto write_reports = [&] {
      write_file_atomically(stem.string() + ".json", report.dump(2) + "\n");
      write_file_atomically(stem.string() + ".md", markdown(report));
      write_file_atomically(stem.string() + ".csv", csv(report));
    };
    report["configs"] = json::array();
    report["complete"] = false;
    write_reports();
    int failures = 0;
    for (const std::string& name : o.configs) {
      std::cerr << "bench kernels: " << name << "...\n";
      try {
        report["configs"].push_back(bench_config(name, o, dtype, peak));
      } catch (const std::exception& e) {  // one config's failure (say, out of memory) keeps the others
        std::string why = e.what();
        why = why.substr(0, why.find('\n'));
        std::cerr << "thg-bench-kernels: " << name << ": " << why << "\n";
        report["configs"].push_back(json{{"config", name}, {"error", why}});
        ++failures;
      }
      write_reports();
      std::cerr << "bench kernels: " << name << " written to " << stem.string() << ".{json,md,csv}\n";
    }
    report["complete"] = true;
    write_reports();
    std::cout << markdown(report);
    return failures == 0 ? 0 : 1;
  } catch (const Error& e) {
    std::cerr << "thg-bench-kernels: " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "thg-bench-kernels: " << e.what() << "\n";
    return 1;
  }
}
