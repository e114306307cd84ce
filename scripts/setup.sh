#!/usr/bin/env bash
# Installs what THG needs to build and test, and nothing that is already there.
#  - Debian packages (FFmpeg libraries, CLI11, yaml-cpp, nlohmann-json, GoogleTest, dlib and its 68-point
#    face landmark model, ccache, Ninja) via apt-get.
#  - LibTorch from the PyPI torch wheel, pinned, in a venv outside the clone (${THG_DEPS:-$HOME/.cache/thg})
#    so that every clone on this machine (CI included) shares it.
# A second run checks and returns in seconds.
set -euo pipefail

TORCH_VERSION=2.11.0
THG_DEPS=${THG_DEPS:-$HOME/.cache/thg}
VENV="$THG_DEPS/venv"

apt_packages=(
  build-essential cmake ninja-build ccache pkg-config python3-venv
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev ffmpeg
  libcli11-dev libyaml-cpp-dev nlohmann-json3-dev libgtest-dev libespeak-ng-dev libdlib-dev libdlib-data
  libcpp-httplib-dev
  # thg serve's browser test: headless Chromium driven by Selenium (tests/browser/)
  chromium chromium-driver python3-selenium
)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: apt-get install ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The torch wheel lists the whole CUDA user-space stack as dependencies (several GB). The CUDA toolkit
# installed on these machines already provides cudart, cuBLAS, cuDNN, NCCL, cuFFT, cuRAND, cuSOLVER,
# cuSPARSE and NVRTC, so torch is installed with --no-deps plus the three libraries the toolkit lacks
# (cuSPARSELt, NVSHMEM, cuFile) and the small pure-Python requirements. On a machine without the
# toolkit, set THG_TORCH_FULL_DEPS=1 to let pip pull everything.
stamp="$VENV/.thg-torch-$TORCH_VERSION"
if [ ! -f "$stamp" ]; then
  echo "setup: creating $VENV with torch==$TORCH_VERSION" >&2
  mkdir -p "$THG_DEPS"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  pip=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)
  if [ "${THG_TORCH_FULL_DEPS:-0}" = 1 ] || ! command -v nvcc >/dev/null; then
    "${pip[@]}" "torch==$TORCH_VERSION"
  else
    "${pip[@]}" --no-deps "torch==$TORCH_VERSION"
    "${pip[@]}" nvidia-cusparselt-cu13 nvidia-nvshmem-cu13 nvidia-cufile \
      numpy filelock typing-extensions sympy networkx jinja2 fsspec
  fi
  touch "$stamp"
fi

# Test-only references: the parity tests compare THG's numerics with diffusers and torchaudio
# (installed here, never needed by the product itself). torchaudio is pinned to torch's version and
# installed without dependencies (torch is already there).
TORCHAUDIO_VERSION=$TORCH_VERSION
audio_stamp="$VENV/.thg-torchaudio-$TORCHAUDIO_VERSION"
if [ ! -f "$audio_stamp" ]; then
  echo "setup: installing torchaudio==$TORCHAUDIO_VERSION (test reference)" >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps "torchaudio==$TORCHAUDIO_VERSION"
  touch "$audio_stamp"
fi
DIFFUSERS_VERSION=0.42.1
ref_stamp="$VENV/.thg-diffusers-$DIFFUSERS_VERSION"
if [ ! -f "$ref_stamp" ]; then
  echo "setup: installing diffusers==$DIFFUSERS_VERSION (test reference)" >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "diffusers==$DIFFUSERS_VERSION"
  touch "$ref_stamp"
fi
