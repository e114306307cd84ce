#pragma once
// Speech augmentation for training on synthetic voices: what a phone, a room or a cheap microphone
// does to human speech, so that real recordings are not out of the training distribution. Each
// effect is drawn with its own probability from the step's generator (resuming reproduces it).
#include <ATen/core/Generator.h>

#include <vector>

namespace thg::train {

struct SpeechAugmentOptions {
  double gain_db_min = -12, gain_db_max = 6;
  double noise_probability = 0.5, snr_db_min = 8, snr_db_max = 40;   // white + low-frequency hum
  double telephone_probability = 0.2;                                 // 300-3400 Hz band
  double reverb_probability = 0.3, rt60_min = 0.15, rt60_max = 0.7;   // seconds
};

// 16 kHz mono samples -> the same length, augmented.
std::vector<float> augment_speech(const std::vector<float>& samples, at::Generator& generator,
                                  const SpeechAugmentOptions& options = {});

}  // namespace thg::train
