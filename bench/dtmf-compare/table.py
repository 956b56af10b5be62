#!/usr/bin/env python3
"""Scores hushpay.tsv, spandsp.tsv and multimon.tsv against manifest.tsv; prints markdown."""
import difflib
import sys
from pathlib import Path

d = Path(sys.argv[1])
manifest = {}
for line in (d / "manifest.tsv").read_text().splitlines()[1:]:
    f, cls, exp = (line.split("\t") + [""])[:3]
    manifest[f] = (cls, exp)

def load(name):
    rows = {}
    for line in (d / name).read_text().splitlines():
        f, digits, cpu, secs = (line.split("\t") + ["", "0", "0"])[:4]
        rows[f] = (digits, float(cpu or 0), float(secs or 0))
    return rows

tools = [("Hushpay", load("hushpay.tsv")), ("spandsp", load("spandsp.tsv")), ("multimon-ng", load("multimon.tsv"))]

def score(rows):
    s = {"accept_exp": 0, "accept_hit": 0, "accept_extra": 0, "reject_cases": 0, "reject_digits": 0,
         "talk_digits": 0, "speech_digits": 0, "music_digits": 0, "cpu": 0.0, "secs": 0.0, "fails": []}
    for f, (cls, exp) in manifest.items():
        got, cpu, secs = rows.get(f, ("", 0.0, 0.0))
        s["cpu"] += cpu
        s["secs"] += secs
        name = Path(f).stem
        if cls == "accept":
            m = sum(b.size for b in difflib.SequenceMatcher(None, exp, got).get_matching_blocks())
            s["accept_exp"] += len(exp)
            s["accept_hit"] += m
            s["accept_extra"] += len(got) - m
            if m != len(exp) or len(got) != m:
                s["fails"].append(f"{name}: {got!r}")
        elif cls == "reject":
            s["reject_cases"] += 16 if name != "single-tones" else 24
            s["reject_digits"] += len(got)
            if got:
                s["fails"].append(f"{name}: {got!r}")
        else:
            s["talk_digits"] += len(got)
            s["speech_digits" if name.startswith("speech") else "music_digits"] += len(got)
            if got:
                s["fails"].append(f"{name}: {got!r}")
    return s

print("| | Hushpay | spandsp | multimon-ng |")
print("|---|---|---|---|")
scores = [(n, score(r)) for n, r in tools]
def row(label, fn):
    print(f"| {label} | " + " | ".join(fn(s) for _, s in scores) + " |")
row("accept-class digits detected", lambda s: f"{s['accept_hit']}/{s['accept_exp']} ({100*s['accept_hit']/max(1,s['accept_exp']):.1f} %)")
row("extra digits in accept cases", lambda s: str(s["accept_extra"]))
row("reject-class digits detected (of tone bursts)", lambda s: f"{s['reject_digits']}/{s['reject_cases']}")
rows0 = tools[0][1]
sp = [f for f, (c, _) in manifest.items() if c == "talkoff" and Path(f).stem.startswith("speech")]
mu = [f for f, (c, _) in manifest.items() if c == "talkoff" and not Path(f).stem.startswith("speech")]
sp_s = sum(rows0.get(f, ("", 0, 0))[2] for f in sp)
mu_s = sum(rows0.get(f, ("", 0, 0))[2] for f in mu)
row(f"talk-off digits: speech ({len(sp)} files, {sp_s:.0f} s)", lambda s: str(s["speech_digits"]))
row(f"talk-off digits: synthetic music ({len(mu)} files, {mu_s:.0f} s)", lambda s: str(s["music_digits"]))
row("CPU per second of audio", lambda s: f"{1e6*s['cpu']/max(1e-9,s['secs']):.0f} us")
print()
for n, s in scores:
    if s["fails"]:
        print(f"- {n} misses / false detections: " + "; ".join(s["fails"]))
