#pragma once
// Speech with phoneme timing from the espeak-ng library (its C API, in-process). espeak-ng keeps
// global state, so calls are serialised; the renderer and encoder run in parallel around them.
#include "synth/dataset.h"

namespace thg::synth {

class EspeakSynthesizer : public SpeechSynthesizer {
 public:
  EspeakSynthesizer();  // throws Error::failure when espeak-ng cannot start (no voice data)
  Speech speak(const std::string& text, const Voice& voice) override;
};

}  // namespace thg::synth
