#!/usr/bin/env python3
"""UNet forward per frame: THG's C++ (`thg bench unet`) against the Python-eager reference on the
same weights, same device, same run, for the tiny, pixel-latent and sd15 configs. Writes
benchmarks/results/unet_forward_<device>_<date>.{json,md}.

usage: benchmarks/unet_forward.py [--thg build/apps/thg] [--device cpu|cuda] [--dtype float32|float16]
                                  [--configs tiny,pixel-latent,sd15] [--results benchmarks/results]
Needs the venv of scripts/setup.sh (torch, diffusers).
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
# frames per forward and repeats per config: the sd15 layout at 512x512 is slow on a CPU.
PLAN = {"tiny": (8, 5), "pixel-latent": (8, 5), "sd15": (2, 2)}
# On a GPU: a chunk of frames times three batched guidance branches, as generation runs it.
GPU_PLAN = {"tiny": (24, 20), "pixel-latent": (24, 20), "sd15": (6, 10)}


def run_json(cmd):
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        # The child's own message: the first GPU run lost it (only CalledProcessError was printed).
        sys.exit(f"{pathlib.Path(cmd[1] if cmd[0] == sys.executable else cmd[0]).name} exited with {done.returncode}:\n"
                 + "\n".join(done.stderr.strip().splitlines()[-25:]))
    return json.loads(done.stdout)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--thg", default=str(ROOT / "build" / "apps" / "thg"))
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"])
    p.add_argument("--configs", default="tiny,pixel-latent,sd15")
    p.add_argument("--results", default=str(ROOT / "benchmarks" / "results"))
    a = p.parse_args()
    plan = PLAN if a.device == "cpu" else GPU_PLAN
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in a.configs.split(","):
            frames, repeats = plan[name]
            weights = os.path.join(tmp, f"{name}.safetensors")
            cpp = run_json([a.thg, "bench", "unet", "--config", str(ROOT / "configs" / f"{name}.yaml"), "--device",
                            a.device, "--dtype", a.dtype, "--frames", str(frames), "--repeats", str(repeats), "--save-weights", weights,
                            "--json", "-q"])
            py = run_json([sys.executable, str(ROOT / "benchmarks" / "unet_forward_torch.py"), weights, "--frames",
                           str(frames), "--repeats", str(repeats), "--device", a.device, "--dtype", a.dtype])
            os.remove(weights)
            rows.append({"config": name, "frames": frames, "size": cpp["size"], "unet_parameters": cpp["unet_parameters"],
                         "cpp": cpp, "python": py, "speedup": py["median_seconds"] / cpp["median_seconds"]})
            print(f"{name}: C++ {cpp['per_frame_seconds']*1000:.1f} ms/frame, Python {py['per_frame_seconds']*1000:.1f}"
                  f" ms/frame, ratio {rows[-1]['speedup']:.2f}", file=sys.stderr)
    today = datetime.date.today().isoformat()
    machine = {"device": a.device, "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
               "date": today, "commit": commit}
    if a.device.startswith("cuda"):
        import torch
        machine["gpu"] = torch.cuda.get_device_name()
    results = pathlib.Path(a.results)
    results.mkdir(parents=True, exist_ok=True)
    stem = results / f"unet_forward_{a.device}_{a.dtype}_{today}"
    stem.with_suffix(".json").write_text(json.dumps({"machine": machine, "rows": rows}, indent=2) + "\n")
    lines = [f"# UNet forward per frame: THG C++ vs Python eager ({a.device})", "",
             f"Date {today}, commit {commit}, {machine['cores']} cores, {a.dtype}, one denoising step over a chunk of"
             " frames, median of the timed repeats after one warm-up; same weights and same run for both.", "",
             "| config | size | frames/forward | UNet params | C++ ms/frame | Python ms/frame | Python / C++ |"
             " C++ peak RSS MB | Python peak RSS MB |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['config']} | {r['size']} | {r['frames']} | {r['unet_parameters']/1e6:.1f} M |"
                     f" {r['cpp']['per_frame_seconds']*1000:.1f} | {r['python']['per_frame_seconds']*1000:.1f} |"
                     f" {r['speedup']:.2f} | {r['cpp']['peak_rss_bytes']/2**20:.0f} |"
                     f" {r['python']['peak_rss_bytes']/2**20:.0f} |")
    lines += ["", "Peak RSS is each process's peak resident memory (the Python one includes the interpreter, torch and"
              " diffusers)."]
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(stem.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
