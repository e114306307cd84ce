#!/usr/bin/env bash
# Fetches, on this machine (which has registries), what the GPU machine lacks and cannot download:
# the Debian packages of THG's build dependencies other than LibTorch/CUDA (yaml-cpp, CLI11,
# nlohmann-json, GoogleTest) and the Python wheels of the eager reference (diffusers and the pure
# Python packages it imports). They land in .device-deps/ (ignored by git, a few MB), which the
# device tool carries: run(carry=[".device-deps"], command="benchmarks/device-run.sh").
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
dest="$THG_ROOT/.device-deps"
mkdir -p "$dest/debs" "$dest/wheels"
(cd "$dest/debs" && apt-get download libyaml-cpp-dev libyaml-cpp0.7 libcli11-dev nlohmann-json3-dev libgtest-dev googletest)
# Pure-Python wheels only (the GPU machine's Python has torch, numpy and safetensors; regex and
# PyYAML are binary and its Python version is not known here, so the reference scripts avoid them).
"$THG_VENV/bin/pip" download --quiet --no-deps --only-binary=:all: --dest "$dest/wheels" \
  "diffusers==$("$THG_VENV/bin/python" -c 'import diffusers; print(diffusers.__version__)')" \
  huggingface_hub filelock importlib_metadata zipp tqdm fsspec packaging typing_extensions httpx httpcore \
  anyio sniffio h11 idna certifi requests urllib3 charset_normalizer hf_xet
du -sh "$dest"
