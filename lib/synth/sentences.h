#pragma once
// Sentences for the synthetic speakers: each language composes subject + verb + object + ending
// from short word lists (thousands of distinct sentences per language). A fixed tenth of every
// language's sentences is held out for evaluation, so test clips say sentences training never heard.
#include <cstdint>
#include <string>
#include <vector>

namespace thg::synth {

struct Language {
  std::string code;   // ISO 639-1, also the espeak-ng voice name
  std::string name;
};

const std::vector<Language>& languages();
// Throws thg::Error::input for an unknown code.
const Language& language(const std::string& code);

// How many sentences a language has, and the index-th one.
int64_t sentence_count(const std::string& code);
std::string sentence(const std::string& code, int64_t index);

// Whether a sentence belongs to the held-out (evaluation) split.
bool sentence_held_out(const std::string& code, int64_t index);

}  // namespace thg::synth
