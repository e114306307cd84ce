#pragma once
// Helpers shared by the tests: fixture paths, scratch folders, running the thg binary.
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace thg::model {
class ModelFamily;
}
namespace thg::pipeline {
struct GenerateOptions;
}

namespace thg::test {

std::filesystem::path data(const std::string& relative);  // tests/data/<relative>
std::filesystem::path source_root();

// A fresh folder under the system temp dir, removed (recursively) on destruction.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  // Names of the entries in the folder (to check that nothing partial was left behind).
  std::vector<std::string> entries() const;

 private:
  std::filesystem::path path_;
};

struct ProcessResult {
  int exit_code = -1;      // exit status, or 128 + signal when killed by a signal
  std::string out, err;
};

// Faults injected into a thg child process.
struct ChildFaults {
  // Send `signal` once interrupt_when() is true (polled every 10 ms, for up to 2 minutes), e.g. when
  // the output's temporary file exists: thg is then past start-up and its signal handlers are in
  // place. A fixed delay races with start-up on a loaded machine (or under a sanitizer).
  std::function<bool()> interrupt_when;
  int signal = 2;               // SIGINT
  long file_size_limit = 0;     // > 0: RLIMIT_FSIZE, a "disk full" for the files it writes
  long memory_limit = 0;        // > 0: RLIMIT_DATA (heap and anonymous mappings), an out-of-memory
};

// Runs the thg binary with `args`, with the given faults.
ProcessResult run_thg(const std::vector<std::string>& args, const ChildFaults& faults = {});
// The same for another of the project's programs (THG_SYNTH_BINARY, THG_TRAIN_BINARY).
ProcessResult run_program(const std::string& binary, const std::vector<std::string>& args,
                          const ChildFaults& faults = {});

// AddressSanitizer reserves terabytes of shadow memory (no memory limit can be set under it) and
// aborts on an impossible allocation instead of letting the allocator fail.
#ifdef __SANITIZE_ADDRESS__  // GCC and Clang both define it under -fsanitize=address
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif

// Whether a GPU test can run here: a CUDA device and (when `need_kernels`) a build with THG's CUDA
// kernels. When it cannot, the test skips with the reason, except where THG_REQUIRE_GPU=1 (set by
// benchmarks/device-run.sh on the GPU machine), where a missing GPU is a failure: a GPU run whose
// tests all skipped must not pass. Use at the start of a test or SetUp():
//   THG_REQUIRE_GPU_OR_SKIP(/*need_kernels=*/true);
#define THG_REQUIRE_GPU_OR_SKIP(need_kernels)                                                   \
  do {                                                                                          \
    std::string thg_gpu_missing_;                                                               \
    if (!::thg::test::gpu_missing_reason(need_kernels, thg_gpu_missing_)) break;                \
    if (::thg::test::gpu_required()) FAIL() << "THG_REQUIRE_GPU=1 but " << thg_gpu_missing_;   \
    GTEST_SKIP() << thg_gpu_missing_;                                                            \
  } while (0)
// True (with the reason in `why`) when there is no CUDA device or, with need_kernels, no kernels.
bool gpu_missing_reason(bool need_kernels, std::string& why);
// THG_REQUIRE_GPU=1 in the environment.
bool gpu_required();

// Starts the thg binary in the background (stdout/stderr to /dev/null); returns its pid.
int start_thg(const std::vector<std::string>& args);

// The build-time output of the Python references (tests/reference/*.py) named `name`, or an empty
// path when the build has no reference Python (the caller skips).
std::filesystem::path reference_data(const std::string& name);

// max |a - b| / max |b|: the relative error the parity tests bound.
double max_relative_error(const at::Tensor& actual, const at::Tensor& expected);

// A tiny random model (configs/tiny.yaml, fp16) saved once per test process, for CLI tests.
const std::filesystem::path& tiny_model_file();
// A tiny random model whose conditioning matters: a fresh model's zero-initialised output
// projections (audio and temporal attention, the residual output) make it ignore the audio, the
// reference and the frame grouping, so here they are random too. `extra_config` is appended to
// configs/tiny.yaml (e.g. another prediction type). Saved in float32 under `dir`.
std::filesystem::path conditioned_tiny_model(const std::filesystem::path& dir, const std::string& extra_config = "");

void write_file(const std::filesystem::path& path, const std::string& bytes);
// Peak resident memory (MiB) of one `thg generate` run (args without --json) up to its finished
// video, as its --json summary reports it, under malloc settings that make the peak follow what is
// live (see test_util.cpp). Adds a test failure and returns 0 when the run fails.
double peak_rss_mib(std::vector<std::string> args);
// The frames of one generation exactly as they go to the sink (uint8 [N, S, S, 3]), through a
// memory sink (options.output is not used).
at::Tensor generated_frames(const model::ModelFamily& model, const pipeline::GenerateOptions& options);
// A 16 kHz mono WAV of `seconds`, sample i being signal(i / 16000.0).
void write_mono_wav(const std::filesystem::path& path, double seconds, const std::function<double(double)>& signal);
// Every writer's temporary (".name.tmp-..."), hidden files included, anywhere under `root`.
std::vector<std::string> temporaries_under(const std::filesystem::path& root);

// Expects `call` to throw a thg::Error of kind BadInput that names `file` and whose message
// contains `needle`.
void expect_input_error(const std::function<void()>& call, const std::string& file, const std::string& needle);
std::string read_file(const std::filesystem::path& path);

}  // namespace thg::test
