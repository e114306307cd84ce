#!/usr/bin/env python3
"""Makes the bundled example inputs (run once; the outputs are committed):
examples/portrait.png - a procedurally drawn face (no real person), 256x256 RGB.
examples/speech.wav   - a sentence spoken by espeak-ng (Debian package espeak-ng), 16 kHz mono.
Needs Pillow and espeak-ng; the product itself needs neither."""
import pathlib, subprocess
from PIL import Image, ImageDraw, ImageFilter

out = pathlib.Path(__file__).resolve().parents[2] / "examples"
out.mkdir(exist_ok=True)
S = 4  # supersampling for anti-aliased edges
W = 256 * S
img = Image.new("RGB", (W, W), (86, 120, 160))
d = ImageDraw.Draw(img)
s = lambda *v: [x * S for x in v]
d.rectangle(s(0, 200, 256, 256), fill=(60, 70, 90))                     # shoulders band
d.ellipse(s(78, 170, 178, 280), fill=(70, 80, 110))                      # torso
d.rectangle(s(112, 150, 144, 190), fill=(214, 170, 140))                 # neck
d.ellipse(s(64, 30, 192, 150), fill=(60, 40, 30))                        # hair back
d.ellipse(s(72, 46, 184, 178), fill=(226, 182, 150))                     # face
d.chord(s(68, 34, 188, 120), 180, 360, fill=(60, 40, 30))                # fringe
for x in (100, 156):
    d.ellipse(s(x - 12, 98, x + 12, 112), fill=(250, 250, 250))          # eye whites
    d.ellipse(s(x - 5, 100, x + 5, 110), fill=(60, 90, 60))              # iris
    d.ellipse(s(x - 2, 103, x + 2, 107), fill=(10, 10, 10))              # pupil
    d.line(s(x - 14, 90, x + 14, 88), fill=(50, 35, 25), width=3 * S)    # brow
d.line(s(128, 112, 124, 136, 132, 136), fill=(190, 140, 115), width=2 * S)  # nose
d.chord(s(108, 146, 148, 162), 0, 180, fill=(150, 60, 60))               # mouth (closed)
img = img.filter(ImageFilter.GaussianBlur(S / 2)).resize((256, 256), Image.LANCZOS)
img.save(out / "portrait.png")

subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(out / "speech_22k.wav"),
                "Hello! This video was made by THG, from one picture and this recording."], check=True)
subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(out / "speech_22k.wav"), "-ar", "16000", "-ac", "1",
                str(out / "speech.wav")], check=True)
(out / "speech_22k.wav").unlink()
