#pragma once
// Visemes: what the mouth does for each phoneme, and the smooth mouth track that a sequence of
// timed phonemes produces. The phonemes come as IPA strings (espeak-ng's phoneme events), so one
// table serves every language. Coarticulation follows the dominance model of Cohen & Massaro
// (1993): every phoneme pulls the mouth towards its target with a weight that decays with the
// distance in time from its segment, and lip closures (p, b, m) pull much harder than vowels,
// so they close the mouth even when short while a /t/ between two vowels barely moves it.
#include <string>
#include <string_view>
#include <vector>

namespace thg::synth {

// One mouth configuration; every field in [0, 1].
struct MouthShape {
  double open = 0.0;    // jaw / lip opening (0 closed)
  double width = 0.5;   // lip spread (0 narrow, 1 wide smile-like spread)
  double round = 0.0;   // lip rounding / protrusion (o, u, w)
  double teeth = 0.0;   // upper-teeth visibility
  double tongue = 0.0;  // tongue visibility
  double press = 0.0;   // lips pressed together (p, b, m): closed whatever the face's rest opening
};

// The mouth at rest (silence): closed, neutral width.
MouthShape rest_mouth();

struct Viseme {
  MouthShape shape;
  double dominance = 1.0;  // how strongly this phoneme holds its target against its neighbours
  double decay = 0.04;     // seconds: how fast that hold fades outside the phoneme (closures: fast)
};

// The viseme of one IPA code point (a base letter, without diacritics); unknown letters give a
// neutral half-open consonant.
Viseme viseme_for(char32_t ipa_letter);

// A phoneme with its start time; an empty ipa string is a pause.
struct PhonemeEvent {
  double start = 0.0;  // seconds from the start of the audio
  std::string ipa;     // UTF-8, may carry stress/length marks and combining diacritics
};

// The base letters of an IPA string, diacritics and suprasegmentals removed ("ˈaɪ" -> a, ɪ).
std::u32string ipa_letters(std::string_view ipa);

// The mouth at the centre of each of `frames` video frames at `fps`, for phonemes that start at
// the given times (sorted) and last until the next one or `duration` seconds.
std::vector<MouthShape> mouth_track(const std::vector<PhonemeEvent>& phonemes, double duration, int frames,
                                    double fps);

}  // namespace thg::synth
