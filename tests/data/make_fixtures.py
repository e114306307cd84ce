#!/usr/bin/env python3
"""Makes the small media fixtures in tests/data/media (run once; outputs are committed).
Images are 64x48: left half red, right half blue (RGBA: right half transparent; gray: dark/light).
Audio is a 440 Hz sine at amplitude 1/8, 0.5 s, in every container/codec THG promises to read.
Needs Pillow (for CMYK and progressive JPEG) and the ffmpeg command; the tests need neither."""
import pathlib, subprocess
from PIL import Image

out = pathlib.Path(__file__).resolve().parent / "media"
out.mkdir(exist_ok=True)
W, H = 64, 48

def halves(mode, left, right):
    img = Image.new(mode, (W, H), left)
    img.paste(right, (W // 2, 0, W, H))
    return img

def ff(*args):
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", *map(str, args)], check=True)

rgb = halves("RGB", (255, 0, 0), (0, 0, 255))
rgb.save(out / "rgb8.png")
halves("RGBA", (255, 0, 0, 255), (0, 0, 255, 0)).save(out / "rgba.png")
halves("L", 50, 200).save(out / "gray8.png")
rgb.quantize(colors=4).save(out / "palette.png")
ff("-i", out / "rgb8.png", "-pix_fmt", "rgb48be", out / "rgb16.png")
ff("-i", out / "gray8.png", "-pix_fmt", "gray16be", out / "gray16.png")
rgb.save(out / "baseline.jpg", quality=95)
rgb.save(out / "progressive.jpg", quality=95, progressive=True)
rgb.convert("CMYK").save(out / "cmyk.jpg", quality=95)
rgb.save(out / "image.webp", quality=95)
rgb.save(out / "image.bmp")
Image.new("RGB", (20, 20), (128, 128, 128)).save(out / "small_20px.png")

sine = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=0.5"]
ff(*sine, "-ar", 16000, "-ac", 1, "-c:a", "pcm_s16le", out / "s16_16k_mono.wav")
ff(*sine, "-ar", 8000, "-ac", 1, "-c:a", "pcm_u8", out / "u8_8k_mono.wav")
ff(*sine, "-ar", 48000, "-ac", 2, "-c:a", "pcm_f32le", out / "f32_48k_stereo.wav")
ff(*sine, "-ar", 44100, "-ac", 2, "-c:a", "libmp3lame", "-b:a", "96k", out / "audio.mp3")
ff(*sine, "-ar", 22050, "-ac", 1, "-c:a", "flac", out / "audio.flac")
ff(*sine, "-ar", 44100, "-ac", 2, "-c:a", "libvorbis", out / "audio.ogg")
ff(*sine, "-ar", 48000, "-ac", 1, "-c:a", "libopus", out / "audio.opus")
ff(*sine, "-ar", 44100, "-ac", 2, "-c:a", "aac", out / "audio.m4a")
ff("-f", "lavfi", "-i", "testsrc=size=64x48:rate=25:duration=0.5", *sine, "-c:v", "libx264", "-pix_fmt", "yuv420p",
   "-c:a", "aac", "-shortest", out / "video_with_audio.mp4")
ff("-f", "lavfi", "-i", "testsrc=size=64x48:rate=25:duration=0.5", "-c:v", "libx264", "-pix_fmt", "yuv420p",
   out / "video_no_audio.mp4")
ff("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000:duration=0.02", "-c:a", "pcm_s16le",
   out / "too_short_20ms.wav")
# Two seconds of the bundled speech as AAC in M4A: the CLI end-to-end clip.
ff("-i", out.parents[2] / "examples" / "speech.wav", "-t", 2, "-c:a", "aac", "-b:a", "48k", out / "speech_2s.m4a")
