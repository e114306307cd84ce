#!/usr/bin/env bash
# Fetches, on this machine (which has registries), what the GPU machine lacks and cannot download:
# the Debian packages of THG's build dependencies other than LibTorch/CUDA (yaml-cpp, CLI11,
# nlohmann-json, GoogleTest) and the Python wheels of the eager reference (diffusers and the pure
# Python packages it imports). They land in .device-deps/ (ignored by git, a few MB), which the
# device tool carries: run(carry=[".device-deps"], command="benchmarks/device-run.sh COMMIT").
#
# .device-deps/MANIFEST names every package asked for ("deb NAME", "wheel NAME") and SHA256SUMS
# every file fetched: benchmarks/device-run.sh checks both in its first seconds, so a missing or
# half-copied folder stops the GPU run at once instead of failing its build minutes later.
# Wheels are fetched for the GPU machine's Python (THG_DEVICE_PYTHON, default 3.12, manylinux
# x86-64); device-run.sh installs only those whose module that Python lacks (it already has
# numpy, safetensors, PyYAML, regex, Pillow, huggingface_hub, ...; see the device tool's KINDS.md).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
dest="$THG_ROOT/.device-deps"
device_python=${THG_DEVICE_PYTHON:-3.12}
debs=(libyaml-cpp-dev libyaml-cpp0.7 libcli11-dev nlohmann-json3-dev libgtest-dev googletest)
diffusers_version=$("$THG_VENV/bin/python" -c 'import diffusers; print(diffusers.__version__)')
wheels=("diffusers==$diffusers_version" huggingface_hub filelock importlib_metadata zipp tqdm fsspec packaging
        typing_extensions httpx httpcore anyio sniffio h11 idna certifi requests urllib3 charset_normalizer hf_xet)

# Fetched into a fresh folder and swapped in whole: an old folder's other versions never linger
# (two versions of one wheel stop pip's install there).
tmp="$dest.new"
rm -rf "$tmp"
mkdir -p "$tmp/debs" "$tmp/wheels"
chmod 777 "$tmp/debs"  # apt-get download drops to the _apt user where it can
(cd "$tmp/debs" && apt-get download "${debs[@]}")
platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux_2_5_x86_64 manylinux1_x86_64; do
  platforms+=(--platform "$p")
done
"$THG_VENV/bin/pip" download --quiet --no-deps --only-binary=:all: --python-version "$device_python" \
  --implementation cp "${platforms[@]}" --dest "$tmp/wheels" "${wheels[@]}"
{
  for d in "${debs[@]}"; do echo "deb $d"; done
  for w in "${wheels[@]}"; do echo "wheel ${w%%==*}"; done
} > "$tmp/MANIFEST"
(cd "$tmp" && sha256sum debs/*.deb wheels/*.whl > SHA256SUMS)
rm -rf "$dest"
mv "$tmp" "$dest"
n_debs=("$dest"/debs/*.deb) n_wheels=("$dest"/wheels/*.whl)
echo "device-deps: ${#n_debs[@]} debs, ${#n_wheels[@]} wheels (Python $device_python) in $dest"
du -sh "$dest"
