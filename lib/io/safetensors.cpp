#include "io/safetensors.h"

#include <ATen/ATen.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/strict_json.h"

namespace thg::io {

namespace {

struct DTypeInfo {
  StDType dtype;
  const char* name;
  size_t size;
  at::ScalarType scalar;
};

constexpr DTypeInfo kDTypes[] = {
    {StDType::F64, "F64", 8, at::kDouble}, {StDType::F32, "F32", 4, at::kFloat},
    {StDType::F16, "F16", 2, at::kHalf},   {StDType::BF16, "BF16", 2, at::kBFloat16},
    {StDType::I64, "I64", 8, at::kLong},   {StDType::I32, "I32", 4, at::kInt},
    {StDType::I16, "I16", 2, at::kShort},  {StDType::I8, "I8", 1, at::kChar},
    {StDType::U8, "U8", 1, at::kByte},     {StDType::BOOL, "BOOL", 1, at::kBool},
};

const DTypeInfo& info(StDType d) {
  for (const auto& i : kDTypes)
    if (i.dtype == d) return i;
  return kDTypes[1];
}

// nlohmann's parser recurses per nesting level; a header of a million '[' would overflow the
// stack. A legitimate header nests three levels deep, so anything past a small bound is refused.
void check_nesting(std::string_view json, const std::string& file) {
  constexpr int kMaxDepth = 16;
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : json) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) throw Error::input(file, "safetensors header is nested too deeply");
    } else if (c == ']' || c == '}') --depth;
  }
}

[[noreturn]] void bad(const std::string& file, const std::string& why) {
  throw Error::input(file, "invalid safetensors file: " + why);
}

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

const char* dtype_name(StDType dtype) { return info(dtype).name; }
size_t dtype_size(StDType dtype) { return info(dtype).size; }

int64_t TensorEntry::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

SafetensorsHeader parse_safetensors_header(std::string_view text, uint64_t data_size, const std::string& file) {
  // The format allows trailing space padding; it must start with '{'.
  if (text.empty() || text.front() != '{') bad(file, "header does not start with '{'");
  check_nesting(text, file);
  // A repeated key is refused at every level: two readers of this file must never disagree on it.
  StrictJson parsed = parse_json_strict(text);
  nlohmann::json& root = parsed.value;
  if (root.is_discarded()) bad(file, "header is not valid JSON");
  if (!parsed.duplicate_key.empty()) bad(file, "header names '" + parsed.duplicate_key + "' twice");
  if (!root.is_object()) bad(file, "header is not a JSON object");

  SafetensorsHeader header;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string& name = it.key();
    const nlohmann::json& value = it.value();
    if (name == "__metadata__") {
      if (!value.is_object()) bad(file, "__metadata__ is not an object");
      for (auto m = value.begin(); m != value.end(); ++m) {
        if (!m.value().is_string()) bad(file, "__metadata__ value '" + m.key() + "' is not a string");
        header.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (!value.is_object()) bad(file, "entry '" + name + "' is not an object");
    for (auto f = value.begin(); f != value.end(); ++f)
      if (f.key() != "dtype" && f.key() != "shape" && f.key() != "data_offsets")
        bad(file, "entry '" + name + "' has an unknown field '" + f.key() + "'");
    TensorEntry entry;
    entry.name = name;

    auto dtype_it = value.find("dtype");
    if (dtype_it == value.end() || !dtype_it->is_string()) bad(file, "entry '" + name + "' has no dtype");
    const std::string dtype = dtype_it->get<std::string>();
    bool known = false;
    for (const auto& d : kDTypes)
      if (dtype == d.name) {
        entry.dtype = d.dtype;
        known = true;
      }
    if (!known) bad(file, "entry '" + name + "' has unsupported dtype '" + dtype + "'");

    auto shape_it = value.find("shape");
    if (shape_it == value.end() || !shape_it->is_array()) bad(file, "entry '" + name + "' has no shape");
    if (shape_it->size() > 16) bad(file, "entry '" + name + "' has more than 16 dimensions");
    uint64_t elements = 1;
    for (const auto& d : *shape_it) {
      if (!d.is_number_unsigned()) bad(file, "entry '" + name + "' has a negative or non-integer dimension");
      uint64_t dim = d.get<uint64_t>();
      if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
          (dim != 0 && elements > std::numeric_limits<uint64_t>::max() / dim))
        bad(file, "entry '" + name + "' has a shape whose size overflows");
      elements *= dim;
      entry.shape.push_back(static_cast<int64_t>(dim));
    }
    const uint64_t esize = dtype_size(entry.dtype);
    if (elements > std::numeric_limits<uint64_t>::max() / esize)
      bad(file, "entry '" + name + "' has a shape whose size overflows");
    const uint64_t bytes = elements * esize;

    auto off_it = value.find("data_offsets");
    if (off_it == value.end() || !off_it->is_array() || off_it->size() != 2 || !(*off_it)[0].is_number_unsigned() ||
        !(*off_it)[1].is_number_unsigned())
      bad(file, "entry '" + name + "' has no valid data_offsets");
    entry.begin = (*off_it)[0].get<uint64_t>();
    entry.end = (*off_it)[1].get<uint64_t>();
    if (entry.begin > entry.end) bad(file, "entry '" + name + "' has reversed data_offsets");
    if (entry.end > data_size) bad(file, "entry '" + name + "' points past the end of the file");
    if (entry.end - entry.begin != bytes)
      bad(file, "entry '" + name + "' has " + std::to_string(entry.end - entry.begin) + " bytes of data but its " +
                    dtype + " shape needs " + std::to_string(bytes));
    header.tensors.push_back(std::move(entry));
  }

  // The data section must be covered exactly: sorted by offset, each tensor starts where the
  // previous one ended, and the last one ends at the end of the file.
  std::sort(header.tensors.begin(), header.tensors.end(), [](const TensorEntry& a, const TensorEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expected = 0;
  for (const auto& t : header.tensors) {
    if (t.begin < expected) bad(file, "entry '" + t.name + "' overlaps another tensor");
    if (t.begin > expected) bad(file, "there is a gap in the data before entry '" + t.name + "'");
    expected = t.end;
  }
  if (expected != data_size) bad(file, "the data section has " + std::to_string(data_size - expected) + " unused bytes");
  return header;
}

SafetensorsHeader parse_safetensors_bytes(std::string_view bytes, const std::string& file) {
  if (bytes.size() < 8) bad(file, "file is shorter than the 8-byte header length");
  const uint64_t n = read_u64_le(reinterpret_cast<const uint8_t*>(bytes.data()));
  if (n > kMaxHeaderBytes) bad(file, "header length " + std::to_string(n) + " exceeds the 100 MB limit");
  if (n > bytes.size() - 8) bad(file, "header length " + std::to_string(n) + " points past the end of the file");
  return parse_safetensors_header(bytes.substr(8, n), bytes.size() - 8 - n, file);
}

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& p) {
  SafetensorsFile f;
  f.path_ = p.string();
  int fd = ::open(f.path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error::input(f.path_, errno == ENOENT ? "file not found" : std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error::input(f.path_, "not a regular file");
  }
  f.map_size_ = static_cast<size_t>(st.st_size);
  if (f.map_size_ == 0) {
    ::close(fd);
    throw Error::input(f.path_, "file is empty");
  }
  void* map = ::mmap(nullptr, f.map_size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) throw Error::input(f.path_, std::string("cannot map the file: ") + std::strerror(errno));
  f.map_ = static_cast<const uint8_t*>(map);
  // From here the destructor unmaps, also when validation throws.
  f.header_ = parse_safetensors_bytes(std::string_view(reinterpret_cast<const char*>(f.map_), f.map_size_), f.path_);
  f.data_start_ = 8 + read_u64_le(f.map_);
  for (size_t i = 0; i < f.header_.tensors.size(); ++i) f.index_[f.header_.tensors[i].name] = i;
  return f;
}

SafetensorsFile::~SafetensorsFile() {
  if (map_ != nullptr) ::munmap(const_cast<uint8_t*>(map_), map_size_);
}

SafetensorsFile::SafetensorsFile(SafetensorsFile&& o) noexcept { *this = std::move(o); }

SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&& o) noexcept {
  if (this != &o) {
    if (map_ != nullptr) ::munmap(const_cast<uint8_t*>(map_), map_size_);
    path_ = std::move(o.path_);
    header_ = std::move(o.header_);
    index_ = std::move(o.index_);
    map_ = std::exchange(o.map_, nullptr);
    map_size_ = std::exchange(o.map_size_, 0);
    data_start_ = o.data_start_;
  }
  return *this;
}

const TensorEntry* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &header_.tensors[it->second];
}

at::Tensor SafetensorsFile::load(const TensorEntry& entry) const {
  at::Tensor t = at::empty(entry.shape, at::TensorOptions().dtype(info(entry.dtype).scalar));
  // memcpy rather than from_blob: data written by other tools may be misaligned for its type.
  if (entry.end > entry.begin) std::memcpy(t.data_ptr(), map_ + data_start_ + entry.begin, entry.end - entry.begin);
  return t;
}

at::Tensor SafetensorsFile::load(const std::string& name) const {
  const TensorEntry* e = find(name);
  if (e == nullptr) throw Error::input(path_, "has no tensor named '" + name + "'");
  return load(*e);
}

void write_safetensors(const std::filesystem::path& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  check_output_path(path);
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<at::Tensor> cpu;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (name == "__metadata__") throw Error::failure(path.string(), "a tensor cannot be named __metadata__");
    at::Tensor t = tensor.detach().to(at::kCPU).contiguous();
    const DTypeInfo* d = nullptr;
    for (const auto& i : kDTypes)
      if (i.scalar == t.scalar_type()) d = &i;
    if (d == nullptr) throw Error::failure(path.string(), "tensor '" + name + "' has a dtype safetensors cannot store");
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * d->size;
    header[name] = {{"dtype", d->name}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    cpu.push_back(std::move(t));
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data 8-byte aligned

  AtomicFile file(path);
  {
    std::ofstream out(file.temp_path(), std::ios::binary);
    if (!out) throw Error::input(path.string(), "cannot create the file");
    uint8_t len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));
    out.write(reinterpret_cast<const char*>(len), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto& t : cpu)
      out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * t.element_size()));
    out.flush();
    if (!out) throw Error::failure(path.string(), "write failed (disk full?)");
  }
  file.commit();
}

}  // namespace thg::io
