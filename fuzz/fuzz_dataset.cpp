// The training side's parsers: the first byte picks a thg-synth dataset manifest (JSONL), a mouth
// track (CSV) or a training recipe (YAML); the rest is the file.
#include <string>

#include "fuzz_util.h"
#include "synth/dataset.h"
#include "train/recipe.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  thg::fuzz::MemoryFile file(data + 1, size - 1);
  thg::fuzz::expect_only_thg_errors([&] {
    switch (data[0] % 3) {
      case 0: thg::synth::read_dataset_manifest(file.path()); break;
      case 1: thg::synth::read_mouth_track(file.path()); break;
      default: thg::train::load_recipe(file.path()); break;
    }
  });
  return 0;
}
