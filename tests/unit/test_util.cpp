#include "test_util.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "core/error.h"
#include "io/audio.h"
#include "io/media_writers.h"
#include "model/talking_head.h"
#include "engine/generate.h"
#include "nn/fused_kernels.h"

namespace thg::test {

std::filesystem::path data(const std::string& relative) { return std::filesystem::path(THG_TEST_DATA) / relative; }
std::filesystem::path source_root() { return THG_SOURCE_ROOT; }

ScratchDir::ScratchDir() {
  std::random_device rd;
  path_ = std::filesystem::temp_directory_path() / ("thg-test-" + std::to_string(rd()) + std::to_string(::getpid()));
  std::filesystem::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::permissions(path_, std::filesystem::perms::owner_all, ec);
  std::filesystem::remove_all(path_, ec);
}

std::vector<std::string> ScratchDir::entries() const {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(path_)) names.push_back(e.path().filename().string());
  return names;
}

void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

at::Tensor generated_frames(const model::ModelFamily& model, const pipeline::GenerateOptions& options) {
  io::MemoryFrameSink sink;
  pipeline::GenerateOptions quiet = options;
  quiet.progress = false;
  pipeline::generate(model, quiet, sink);
  return sink.frames();
}

void write_mono_wav(const std::filesystem::path& path, double seconds, const std::function<double(double)>& signal) {
  io::AudioBuffer a;
  a.sample_rate = 16000;
  a.channels = 1;
  const auto n = static_cast<size_t>(std::llround(seconds * 16000));
  for (size_t i = 0; i < n; ++i) a.samples.push_back(static_cast<float>(signal(static_cast<double>(i) / 16000.0)));
  io::write_wav(path, a);
}

std::vector<std::string> temporaries_under(const std::filesystem::path& root) {
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root))
    if (e.path().filename().string().find(".tmp-") != std::string::npos) left.push_back(e.path().string());
  return left;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void expect_input_error(const std::function<void()>& call, const std::string& file, const std::string& needle) {
  try {
    call();
    ADD_FAILURE() << "accepted " << file << " (expected an error containing '" << needle << "')";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput) << e.what();
    EXPECT_EQ(e.file(), file);
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

std::filesystem::path reference_data(const std::string& name) {
  const std::string dir = THG_REFERENCE_DIR;
  if (dir.empty()) return {};
  return std::filesystem::path(dir) / name;
}

double max_relative_error(const at::Tensor& actual, const at::Tensor& expected) {
  at::Tensor a = actual.to(at::kDouble), e = expected.to(at::kDouble);
  return ((a - e).abs().max() / e.abs().max().clamp_min(1e-30)).item<double>();
}

namespace {
// In a forked child: replaces the process with `binary` `args`.
[[noreturn]] void exec_program(const std::string& binary, const std::vector<std::string>& args) {
  std::vector<std::string> all{binary};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(binary.c_str(), argv.data());
  ::_exit(127);
}
}  // namespace

int start_thg(const std::vector<std::string>& args) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    exec_program(THG_BINARY, args);
  }
  return pid;
}

const std::filesystem::path& tiny_model_file() {
  static ScratchDir dir;
  static const std::filesystem::path path = [] {
    auto m = model::TalkingHeadModel::random(model::load_model_config(source_root() / "configs/tiny.yaml"), 3);
    m->save(dir / "tiny.safetensors", at::kHalf);
    return dir / "tiny.safetensors";
  }();
  return path;
}

bool gpu_required() {
  const char* v = std::getenv("THG_REQUIRE_GPU");
  return v != nullptr && std::string(v) == "1";
}

bool gpu_missing_reason(bool need_kernels, std::string& why) {
  if (need_kernels && !nn::fused_kernels_built()) {
    why = "this build has no CUDA kernels (nvcc was not found at configure time?)";
    return true;
  }
  if (!at::hasCUDA()) {
    why = "no CUDA device (GPU tests run on the GPU machine: benchmarks/device-run.sh)";
    return true;
  }
  return false;
}

std::filesystem::path conditioned_tiny_model(const std::filesystem::path& dir, const std::string& extra_config) {
  const std::string config = read_file(source_root() / "configs/tiny.yaml") + extra_config;
  auto m = model::TalkingHeadModel::random(model::parse_model_config(config, "tiny.yaml"), 11);
  {
    at::NoGradGuard no_grad;
    for (auto& [name, p] : m->named_parameters())
      if (p->abs().max().item<double>() == 0.0) p->normal_(0.0, 0.3);
  }
  const auto path = dir / "conditioned-tiny.safetensors";
  m->save(path, at::kFloat);
  return path;
}

ProcessResult run_thg(const std::vector<std::string>& args, const ChildFaults& faults) {
  return run_program(THG_BINARY, args, faults);
}

ProcessResult run_program(const std::string& binary, const std::vector<std::string>& args, const ChildFaults& faults) {
  ScratchDir capture;
  const auto out_path = capture / "stdout", err_path = capture / "stderr";
  pid_t pid = ::fork();
  if (pid == 0) {
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 1);
    ::dup2(err, 2);
    const auto limit = [](int resource, long bytes) {
      struct rlimit l {static_cast<rlim_t>(bytes), static_cast<rlim_t>(bytes)};
      ::setrlimit(resource, &l);
    };
    if (faults.file_size_limit > 0) limit(RLIMIT_FSIZE, faults.file_size_limit);
    if (faults.memory_limit > 0) limit(RLIMIT_DATA, faults.memory_limit);
    exec_program(binary, args);
  }
  int status = 0;
  bool exited = false;
  if (faults.interrupt_when) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
    while (!(exited = ::waitpid(pid, &status, WNOHANG) == pid) && !faults.interrupt_when() &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (!exited) ::kill(pid, faults.signal);
  }
  if (!exited) ::waitpid(pid, &status, 0);
  ProcessResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  return r;
}

// Peak resident memory (MiB) of one `thg generate` run up to its finished video, as its --json
// summary reports it (the kernel's high-water mark of the process; LibTorch's teardown at exit
// briefly maps ~100 MB more, which would hide tens of MiB of real growth under a constant spike).
double peak_rss_mib(std::vector<std::string> args) {
  // glibc's malloc otherwise keeps freed memory in per-thread arenas and raises its mmap threshold
  // as large blocks are freed, so a run's peak RSS varies by tens of MiB from run to run. One arena
  // and fixed thresholds (large blocks mapped, and returned on free) make the peak follow what is
  // actually live, so that buffering every frame (tens of MiB here) cannot hide in the noise.
  ::setenv("MALLOC_ARENA_MAX", "1", 1);
  ::setenv("MALLOC_MMAP_THRESHOLD_", "131072", 1);
  ::setenv("MALLOC_TRIM_THRESHOLD_", "131072", 1);
  args.push_back("--json");
  const ProcessResult r = run_thg(args);
  ::unsetenv("MALLOC_ARENA_MAX");
  ::unsetenv("MALLOC_MMAP_THRESHOLD_");
  ::unsetenv("MALLOC_TRIM_THRESHOLD_");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (r.exit_code != 0) return 0;
  return nlohmann::json::parse(r.out)["peak_rss_bytes"].get<double>() / (1024.0 * 1024.0);
}

}  // namespace thg::test
