#include "synth/mouth.h"

#include <algorithm>
#include <cmath>

namespace thg::synth {

namespace {

struct Segment {
  double begin, end;
  Viseme viseme;
};

// Most dominances fade with a 40 ms time constant (a neighbour's influence is gone within two
// video frames, as in measured articulator trajectories); closures hold hard but briefly.
Viseme v(double open, double width, double round, double teeth, double tongue, double dominance,
         double decay = 0.04, double press = 0.0) {
  return {{open, width, round, teeth, tongue, press}, dominance, decay};
}

// Decodes one UTF-8 code point at s[i], advancing i; invalid bytes decode as U+FFFD.
char32_t next_code_point(std::string_view s, size_t& i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  int extra = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
  if (extra < 0) {
    ++i;
    return 0xFFFD;
  }
  char32_t cp = extra == 0 ? c : c & (0x3F >> extra);
  for (int k = 1; k <= extra; ++k) {
    if (i + k >= s.size() || (byte(i + k) >> 6) != 2) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  i += static_cast<size_t>(extra) + 1;
  return cp;
}

bool is_mark(char32_t c) {
  return (c >= 0x0300 && c <= 0x036F)      // combining diacritics (nasal tilde, ...)
         || (c >= 0x02B0 && c <= 0x02FF)   // modifier letters: ˈ ˌ ː ʰ ʲ ...
         || c == '-' || c == '_' || c == '\'' || c == ',' || c == 0x203F || c == 0x0361;
}

}  // namespace

MouthShape rest_mouth() { return {0.0, 0.5, 0.0, 0.0, 0.0}; }

Viseme viseme_for(char32_t c) {
  switch (c) {
    // Lip closure: the strongest constraint in speech.
    case U'p': case U'b': case U'm': case U'ɓ': return v(0.0, 0.45, 0.1, 0.0, 0.0, 4.0, 0.02, 1.0);
    // Lower lip under the upper teeth.
    case U'f': case U'v': case U'ʋ': case U'ɱ': return v(0.08, 0.5, 0.0, 1.0, 0.0, 2.5, 0.025);
    // Tongue between the teeth.
    case U'θ': case U'ð': return v(0.22, 0.55, 0.0, 0.8, 1.0, 1.5);
    // Alveolars: the jaw follows the neighbours (low dominance), teeth show.
    case U't': case U'd': case U'n': case U'l': case U'ɾ': case U's': case U'z': case U'ɹ': case U'r':
    case U'ɬ': case U'ɫ': case U'ɲ': case U'ʎ':
      return v(0.2, 0.55, 0.0, 0.8, 0.3, 0.6);
    // Postalveolars: rounded, teeth close.
    case U'ʃ': case U'ʒ': case U'ɕ': case U'ʑ': case U'ç': case U'ʂ': case U'ʐ':
      return v(0.2, 0.35, 0.7, 0.8, 0.0, 1.3);
    // Velars, uvulars, glottals: the lips are free.
    case U'k': case U'g': case U'ɡ': case U'ŋ': case U'x': case U'ɣ': case U'h': case U'ʁ': case U'χ':
    case U'q': case U'ʔ': case U'ɦ': case U'ʀ':
      return v(0.3, 0.55, 0.0, 0.3, 0.0, 0.5);
    case U'j': return v(0.25, 0.8, 0.0, 0.6, 0.0, 0.7);
    case U'w': case U'ɥ': return v(0.15, 0.25, 1.0, 0.0, 0.0, 1.5);
    // Vowels.
    case U'a': case U'ɑ': case U'æ': case U'ɐ': case U'ä': case U'ɒ': return v(1.0, 0.65, 0.0, 0.4, 0.3, 1.0);
    case U'e': case U'ɛ': case U'ɜ': return v(0.6, 0.75, 0.0, 0.6, 0.2, 1.0);
    case U'œ': return v(0.6, 0.45, 0.6, 0.4, 0.1, 1.0);
    case U'i': case U'ɪ': case U'ɨ': return v(0.3, 0.95, 0.0, 0.8, 0.0, 1.0);
    case U'y': case U'ʏ': return v(0.3, 0.3, 0.9, 0.2, 0.0, 1.0);
    case U'o': case U'ɔ': return v(0.6, 0.4, 0.8, 0.2, 0.0, 1.0);
    case U'ø': return v(0.45, 0.35, 0.85, 0.2, 0.0, 1.0);
    case U'u': case U'ʊ': case U'ɯ': return v(0.3, 0.28, 1.0, 0.0, 0.0, 1.0);
    case U'ə': case U'ʌ': case U'ɵ': case U'ɘ': return v(0.45, 0.6, 0.0, 0.4, 0.1, 0.8);
    default: return v(0.3, 0.55, 0.0, 0.3, 0.0, 0.5);
  }
}

std::u32string ipa_letters(std::string_view ipa) {
  std::u32string out;
  for (size_t i = 0; i < ipa.size();) {
    char32_t c = next_code_point(ipa, i);
    if (c != 0xFFFD && !is_mark(c) && c != ' ') out.push_back(c);
  }
  return out;
}

std::vector<MouthShape> mouth_track(const std::vector<PhonemeEvent>& phonemes, double duration, int frames,
                                    double fps) {
  // Segments: each phoneme lasts until the next one starts; its letters share its time equally
  // (a diphthong "aɪ" glides from a to ɪ). Before the first and after the last: rest.
  std::vector<Segment> segments;
  const Viseme pause{rest_mouth(), 1.0, 0.04};
  double first = phonemes.empty() ? duration : phonemes.front().start;
  if (first > 0) segments.push_back({-1.0, first, pause});
  for (size_t k = 0; k < phonemes.size(); ++k) {
    const double begin = phonemes[k].start;
    const double end = k + 1 < phonemes.size() ? phonemes[k + 1].start : duration;
    if (end <= begin) continue;
    const std::u32string letters = ipa_letters(phonemes[k].ipa);
    if (letters.empty()) {
      segments.push_back({begin, end, pause});
      continue;
    }
    const double share = (end - begin) / static_cast<double>(letters.size());
    for (size_t j = 0; j < letters.size(); ++j)
      segments.push_back({begin + share * j, begin + share * (j + 1), viseme_for(letters[j])});
  }
  segments.push_back({std::max(duration, first), duration + 1.0, pause});

  std::vector<MouthShape> track(static_cast<size_t>(std::max(0, frames)));
  for (int f = 0; f < frames; ++f) {
    const double t = (f + 0.5) / fps;
    double total = 0;
    MouthShape m{0, 0, 0, 0, 0, 0};
    for (const Segment& s : segments) {
      const double gap = t < s.begin ? s.begin - t : t > s.end ? t - s.end : 0.0;
      if (gap > 8 * s.viseme.decay) continue;
      const double w = s.viseme.dominance * std::exp(-gap / s.viseme.decay);
      total += w;
      m.open += w * s.viseme.shape.open;
      m.width += w * s.viseme.shape.width;
      m.round += w * s.viseme.shape.round;
      m.teeth += w * s.viseme.shape.teeth;
      m.tongue += w * s.viseme.shape.tongue;
      m.press += w * s.viseme.shape.press;
    }
    if (total <= 0) {
      track[static_cast<size_t>(f)] = rest_mouth();
      continue;
    }
    track[static_cast<size_t>(f)] = {m.open / total, m.width / total, m.round / total, m.teeth / total,
                                     m.tongue / total, m.press / total};
  }
  return track;
}

}  // namespace thg::synth
