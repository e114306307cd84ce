#include "espeak_synthesizer.h"

#include <espeak-ng/speak_lib.h>

#include <cstring>
#include <mutex>

#include "core/error.h"

namespace thg::synth {

namespace {

std::mutex espeak_mutex;
int sample_rate = 0;

// Where the callback collects one utterance (guarded by espeak_mutex).
struct Collector {
  std::vector<short> pcm;
  std::vector<PhonemeEvent> phonemes;
};
Collector* current = nullptr;

int on_synth(short* wav, int samples, espeak_EVENT* events) {
  if (!current) return 1;
  if (wav && samples > 0) current->pcm.insert(current->pcm.end(), wav, wav + samples);
  for (espeak_EVENT* e = events; e && e->type != espeakEVENT_LIST_TERMINATED; ++e) {
    if (e->type != espeakEVENT_PHONEME) continue;
    char name[9] = {0};
    std::memcpy(name, e->id.string, 8);
    current->phonemes.push_back({e->audio_position / 1000.0, name});
  }
  return 0;
}

}  // namespace

EspeakSynthesizer::EspeakSynthesizer() {
  std::lock_guard<std::mutex> lock(espeak_mutex);
  if (sample_rate > 0) return;
  // Synchronous output to our callback; phoneme events with IPA names; never exit() on error.
  sample_rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 200, nullptr,
                                  espeakINITIALIZE_PHONEME_EVENTS | espeakINITIALIZE_PHONEME_IPA |
                                      espeakINITIALIZE_DONT_EXIT);
  if (sample_rate <= 0) throw Error::failure("espeak-ng", "cannot initialise espeak-ng (is espeak-ng-data installed?)");
  espeak_SetSynthCallback(on_synth);
}

Speech EspeakSynthesizer::speak(const std::string& text, const Voice& voice) {
  std::lock_guard<std::mutex> lock(espeak_mutex);
  const std::string name = voice.language + (voice.variant.empty() ? "" : "+" + voice.variant);
  if (espeak_SetVoiceByName(name.c_str()) != EE_OK) throw Error::input(name, "espeak-ng has no such voice");
  espeak_SetParameter(espeakRATE, voice.rate_wpm, 0);
  espeak_SetParameter(espeakPITCH, voice.pitch, 0);
  Collector collector;
  current = &collector;
  const espeak_ERROR rc =
      espeak_Synth(text.c_str(), text.size() + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, nullptr, nullptr);
  espeak_Synchronize();
  current = nullptr;
  if (rc != EE_OK || collector.pcm.empty()) throw Error::failure("espeak-ng", "speech synthesis failed for: " + text);
  Speech speech;
  speech.audio.sample_rate = sample_rate;
  speech.audio.channels = 1;
  speech.audio.samples.reserve(collector.pcm.size());
  for (short s : collector.pcm) speech.audio.samples.push_back(static_cast<float>(s) / 32768.0f);
  speech.phonemes = std::move(collector.phonemes);
  return speech;
}

}  // namespace thg::synth
