#pragma once
// Log-mel features of 16 kHz speech (torch STFT), and the window of features that belongs to each
// video frame: what the audio encoder turns into the tokens a frame attends to.
#include <ATen/core/Tensor.h>

#include <vector>

namespace thg::audio {

struct MelConfig {
  int sample_rate = 16000;
  int n_fft = 400;       // 25 ms
  int hop_length = 160;  // 10 ms: 100 feature frames per second
  int n_mels = 80;
  double f_min = 0.0;
  double f_max = 8000.0;
};

// Slaney-scale, area-normalised triangular filters (librosa's default): [n_mels, n_fft/2 + 1].
at::Tensor mel_filterbank(const MelConfig& config);

// Mono samples -> log10 mel power [n_mels, T], T = samples / hop + 1, clamped at 1e-10 and
// compressed to a dynamic range of 8 (as Whisper does) then scaled to about [-1, 1].
at::Tensor log_mel(const std::vector<float>& samples, const MelConfig& config);

// For each of `frames` video frames at `fps`, the `width` mel columns centred on the frame's
// centre time: [frames, n_mels, width]. Beyond the audio, windows see the silence level.
// The width is fixed by the model (not by fps), so any --fps works with any model.
at::Tensor frame_windows(const at::Tensor& mel, int64_t frames, double fps, int64_t width, const MelConfig& config);
// The same for frames [first, first + frames) only, with the silence level given (the minimum of
// the whole mel): what chunked generation uses so memory does not grow with the audio length.
at::Tensor frame_windows_at(const at::Tensor& mel, int64_t first, int64_t frames, double fps, int64_t width,
                            const MelConfig& config, double silence);

// Columns of mel per video frame (4 at 25 fps and 100 columns/s), rounded up.
int64_t columns_per_frame(double fps, const MelConfig& config);

}  // namespace thg::audio
