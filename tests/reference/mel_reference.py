#!/usr/bin/env python3
"""Reference log-mel features from torchaudio, for THG's audio-feature parity test.

torchaudio's Slaney-scale, Slaney-normalised filterbank (librosa's default, which THG uses) and
its MelSpectrogram (Hann window, centred frames, reflection padding, power 2) over a fixed test
signal, then the same log10 / 8-decade clamp / scaling THG applies (audio/mel.h). Saved:
  filterbank [n_mels, n_fft/2+1], signal [samples], log_mel [n_mels, frames].

usage: mel_reference.py OUT.safetensors
"""
import math
import sys

import torch
import torchaudio.functional as AF
import torchaudio.transforms as AT
from safetensors.torch import save_file

SAMPLE_RATE, N_FFT, HOP, N_MELS, F_MIN, F_MAX = 16000, 400, 160, 80, 0.0, 8000.0


def test_signal():
    # 1.5 s: a chirp from 80 Hz to 7 kHz, a 440 Hz tone from 0.5 s and seeded noise, so every band
    # and the silence clamp are exercised.
    t = torch.arange(int(1.5 * SAMPLE_RATE), dtype=torch.float64) / SAMPLE_RATE
    chirp = torch.sin(2 * math.pi * (80 * t + 0.5 * (7000 - 80) / 1.5 * t * t))
    tone = (t >= 0.5).double() * 0.3 * torch.sin(2 * math.pi * 440 * t)
    noise = 0.01 * torch.randn(t.shape, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    return (0.4 * chirp + tone + noise).float()


def main(out):
    filterbank = AF.melscale_fbanks(N_FFT // 2 + 1, F_MIN, F_MAX, N_MELS, SAMPLE_RATE, norm="slaney",
                                    mel_scale="slaney").T.contiguous()
    signal = test_signal()
    # torchaudio's transform runs in the signal's dtype; float64 keeps the reference's own error
    # far below the test's tolerance.
    spec = AT.MelSpectrogram(sample_rate=SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP, f_min=F_MIN, f_max=F_MAX,
                             n_mels=N_MELS, power=2.0, center=True, pad_mode="reflect", norm="slaney",
                             mel_scale="slaney").double()
    mel = spec(signal.double())
    log_mel = torch.log10(torch.clamp(mel, min=1e-10))
    log_mel = torch.maximum(log_mel, log_mel.max() - 8.0)
    log_mel = ((log_mel + 4.0) / 4.0).float()
    save_file({"filterbank": filterbank.float(), "signal": signal, "log_mel": log_mel.contiguous()}, out)


if __name__ == "__main__":
    main(sys.argv[1])
