#include "model/family.h"

#include "core/error.h"
#include "io/safetensors.h"
#include "model/motion_warp.h"
#include "model/talking_head.h"
#include "model/weights.h"

namespace thg::model {

namespace {

// One row per family: its config name, and how a file or a seed makes one.
struct FamilyRow {
  const char* name;
  std::unique_ptr<ModelFamily> (*load)(const std::filesystem::path& weights);
  std::unique_ptr<ModelFamily> (*random)(const ModelConfig& config, uint64_t seed);
};

const std::vector<FamilyRow>& family_table() {
  static const std::vector<FamilyRow> table{
      {"pixel-latent", [](const std::filesystem::path& w) -> std::unique_ptr<ModelFamily> { return TalkingHeadModel::load(w); },
       [](const ModelConfig& c, uint64_t seed) -> std::unique_ptr<ModelFamily> { return TalkingHeadModel::random(c, seed); }},
      {"motion-warp", [](const std::filesystem::path& w) -> std::unique_ptr<ModelFamily> { return MotionWarpModel::load(w); },
       [](const ModelConfig& c, uint64_t seed) -> std::unique_ptr<ModelFamily> { return MotionWarpModel::random(c, seed); }},
  };
  return table;
}

const FamilyRow& row_for(const std::string& family, const std::string& source) {
  for (const FamilyRow& row : family_table())
    if (family == row.name) return row;
  throw Error::input(source, "unknown model family '" + family + "'");
}

}  // namespace

std::vector<std::string> model_families() {
  std::vector<std::string> names;
  for (const FamilyRow& row : family_table()) names.emplace_back(row.name);
  return names;
}

std::unique_ptr<ModelFamily> load_model_file(const std::filesystem::path& weights) {
  // Only the metadata is read here; the family's loader reopens the file for its tensors.
  const ModelConfig config = model_file_config(io::SafetensorsFile::open(weights), weights);
  return row_for(config.family, weights.string()).load(weights);
}

std::unique_ptr<ModelFamily> random_model(const ModelConfig& config, uint64_t seed) {
  return row_for(config.family, "").random(config, seed);
}

}  // namespace thg::model
