#pragma once
// safetensors: the weights format of the diffusion ecosystem. The reader maps the file and checks
// everything a hostile file could lie about (header size, JSON, dtypes, shapes, offsets) before
// touching tensor data; the writer produces files the reference Python library reads.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace thg::io {

enum class StDType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

const char* dtype_name(StDType dtype);
size_t dtype_size(StDType dtype);

struct TensorEntry {
  std::string name;
  StDType dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets relative to the start of the data section
  uint64_t end = 0;
  int64_t numel() const;
};

struct SafetensorsHeader {
  std::vector<TensorEntry> tensors;  // in offset order
  std::map<std::string, std::string> metadata;
};

constexpr uint64_t kMaxHeaderBytes = 100'000'000;

// Parses and validates the JSON header against a data section of `data_size` bytes.
// `file` only names the source in error messages. Throws Error::input on any violation.
SafetensorsHeader parse_safetensors_header(std::string_view json, uint64_t data_size, const std::string& file);

// Parses a whole file image held in memory (the fuzzing entry point).
SafetensorsHeader parse_safetensors_bytes(std::string_view bytes, const std::string& file);

class SafetensorsFile {
 public:
  // Maps `path` read-only and validates it.
  static SafetensorsFile open(const std::filesystem::path& path);
  ~SafetensorsFile();
  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;

  const std::string& path() const { return path_; }
  const std::vector<TensorEntry>& tensors() const { return header_.tensors; }
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }
  const TensorEntry* find(const std::string& name) const;
  // A CPU tensor owning a copy of the data (safe for misaligned data and after close).
  at::Tensor load(const TensorEntry& entry) const;
  at::Tensor load(const std::string& name) const;

 private:
  SafetensorsFile() = default;
  std::string path_;
  SafetensorsHeader header_;
  std::map<std::string, size_t> index_;
  const uint8_t* map_ = nullptr;
  size_t map_size_ = 0;
  uint64_t data_start_ = 0;
};

// Writes tensors (any device; copied to CPU) with optional string metadata, atomically.
void write_safetensors(const std::filesystem::path& path,
                       const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace thg::io
