#!/usr/bin/env python3
"""Scores the "keypad tones under speech" corpus (issue 18): digits over speech per SNR, talk-off,
what the masker mutes and what spandsp / multimon-ng recover from the masked audio.
Usage: speech_table.py CORPUS_DIR [tool.tsv ...] (default: hushpay, spandsp, multimon)."""
import difflib
import sys
from pathlib import Path

d = Path(sys.argv[1])
manifest = {}
for line in (d / "manifest.tsv").read_text().splitlines()[1:]:
    f, cls, exp, snr, _spans = (line.split("\t") + ["", "", ""])[:5]
    manifest[f] = (cls, exp, snr)


def load(path):
    rows = {}
    if not path.exists():
        return None
    for line in path.read_text().splitlines():
        f, digits, cpu, secs = (line.split("\t") + ["", "0", "0"])[:4]
        rows[f] = (digits, float(cpu or 0), float(secs or 0))
    return rows


def matched(exp, got):
    return sum(b.size for b in difflib.SequenceMatcher(None, exp, got, autojunk=False).get_matching_blocks())


names = sys.argv[2:] or ["hushpay", "spandsp", "multimon"]
labels = {"hushpay": "Hushpay", "spandsp": "spandsp", "multimon": "multimon-ng"}
tools = [(labels.get(n, n), load(d / f"{n}.tsv")) for n in names]
tools = [(n, r) for n, r in tools if r is not None]
snrs = sorted({s for c, _, s in manifest.values() if c == "speech"}, key=float)


def score(rows):
    s = {"exp": 0, "hit": 0, "false": 0, "talk_speech": 0, "talk_music": 0, "cpu": 0.0, "secs": 0.0}
    for snr in snrs:
        s[f"exp{snr}"] = s[f"hit{snr}"] = 0
    for f, (cls, exp, snr) in manifest.items():
        got, cpu, secs = rows.get(f, ("", 0.0, 0.0))
        s["cpu"] += cpu
        s["secs"] += secs
        if cls == "speech":
            m = matched(exp, got)
            s["exp"] += len(exp)
            s["hit"] += m
            s["false"] += len(got) - m
            s[f"exp{snr}"] += len(exp)
            s[f"hit{snr}"] += m
        else:
            s["talk_music" if Path(f).stem.startswith("music") else "talk_speech"] += len(got)
    return s


scores = [(n, score(r)) for n, r in tools]
pct = lambda a, b: f"{100 * a / max(1, b):.2f} %"
print("| | " + " | ".join(n for n, _ in scores) + " |")
print("|---|" + "---|" * len(scores))
def row(label, fn):
    print(f"| {label} | " + " | ".join(fn(s) for _, s in scores) + " |")
row("digits over speech, all SNRs", lambda s: f"{s['hit']}/{s['exp']} ({pct(s['hit'], s['exp'])})")
for snr in snrs:
    row(f"  at {float(snr):g} dB SNR", lambda s, snr=snr: f"{s['hit' + snr]}/{s['exp' + snr]} ({pct(s['hit' + snr], s['exp' + snr])})")
row("false digits in keyed-over-speech files", lambda s: str(s["false"]))
talk = [f for f, (c, _, _) in manifest.items() if c == "talkoff"]
mus = [f for f in talk if Path(f).stem.startswith("music")]
secs = lambda fs: sum(tools[0][1].get(f, ("", 0, 0))[2] for f in fs)
row(f"talk-off digits: speech and babble ({len(talk) - len(mus)} files, {secs(talk) - secs(mus):.0f} s)", lambda s: str(s["talk_speech"]))
row(f"talk-off digits: music ({len(mus)} files, {secs(mus):.0f} s)", lambda s: str(s["talk_music"]))
row("CPU per second of audio", lambda s: f"{1e6 * s['cpu'] / max(1e-9, s['secs']):.0f} us" if s["cpu"] else "not measured")

mask = d / "mask.tsv"
if mask.exists():
    acc = {"pure speech": [0, 0, 0, 0, 0], "speech around digits": [0, 0, 0, 0, 0], "music": [0, 0, 0, 0, 0]}
    cap_hit = cap_exp = cap_false = cap_talk = 0
    for line in mask.read_text().splitlines():
        f, captured, active, muted, codec, masked, packets = line.split("\t")
        cls, exp, _ = manifest[f]
        stem = Path(f).stem
        key = "speech around digits" if cls == "speech" else ("music" if stem.startswith("music") else "pure speech")
        acc[key][0] += int(active)
        acc[key][1] += int(muted)
        acc[key][2] += int(codec)
        acc[key][3] += int(masked)
        acc[key][4] += int(packets)
        if cls == "speech":
            m = matched(exp, captured)
            cap_hit += m
            cap_exp += len(exp)
            cap_false += len(captured) - m
        else:
            cap_talk += len(captured)
    print()
    print("Masker (browser path: 48 kHz, Opus 32 kbit/s wideband, 20 ms):")
    print()
    print("| | active 20 ms frames (outside digit windows) | muted (>= 10 dB quieter) | share | same, codec alone | packets masked (all) |")
    print("|---|---|---|---|---|---|")
    for k, (a, m, c, mk, pk) in acc.items():
        print(f"| {k} | {a} | {m} | {pct(m, a)} | {pct(c, a)} | {mk}/{pk} ({pct(mk, pk)}) |")
    print()
    print(f"Masker captured digits over speech: {cap_hit}/{cap_exp} ({pct(cap_hit, cap_exp)}), "
          f"{cap_false} false; on talk-off files: {cap_talk}")
    keys = d / "keys" / "keys.tsv"
    for n in ("spandsp", "multimon"):
        rows = load(d / "masked" / f"{n}.tsv")
        krows = load(d / "keys" / f"{n}.tsv")
        urows = load(d / "keys-unkeyed" / f"{n}.tsv") or {}
        if rows is None or krows is None:
            continue
        found = sum(len(digits) for digits, _, _ in rows.values())
        talk = sum(len(digits) for f, (digits, _, _) in rows.items()
                   if manifest.get(str(Path(f).parent.parent / Path(f).name), ("",))[0] == "talkoff")
        leaked, talkoff = [], []
        for line in keys.read_text().splitlines():
            f, key = line.split("\t")
            if key in krows.get(f, ("", 0, 0))[0]:
                unkeyed = str(Path(f).parent.parent / "keys-unkeyed" / Path(f).name)
                # The peer reports the key's digit in this excerpt even with every key cut out
                # of the input: its talk-off on the speech there, not the key leaking.
                if key in urows.get(unkeyed, ("", 0, 0))[0]:
                    talkoff.append(Path(f).stem)
                else:
                    leaked.append(Path(f).stem)
        print(f"True digits {labels[n]} recovers from the masked audio (each key +/- 100 ms): {len(leaked)}"
              f" {leaked if leaked else ''}(all digits it reports in the masked files: {found}, of which on talk-off files: {talk};"
              f" the key's digit also reported in the same excerpt of the input with every key cut out, its talk-off: {len(talkoff)} {talkoff if talkoff else ''})")
