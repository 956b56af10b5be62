#!/usr/bin/env python3
"""Writes the caller's RTP for bench/sip-load.sh as a pcap for SIPp's play_pcap_audio.

    make_pcap.py SPEECH_RAW SECONDS OUT.pcap

SPEECH_RAW: 8 kHz mono signed 16-bit little-endian speech (the script makes it with espeak-ng
and sox), looped to fill SECONDS. Every 2 s a 100 ms in-band DTMF key (-10 dBm0 per tone) is
mixed in place of the speech, so the masker detects and masks as it does on a real caller.
PCMU (PT 0), 20 ms packets, one SSRC, sequence and timestamp continuous. Prints the packet
count (what each call sends) on stdout.
"""

import math
import struct
import sys

RATE = 8000
FRAME = 160
KEY_EVERY_S = 2
KEY_MS = 100
# (low, high) Hz of the keys used, in turn
KEYS = [(697, 1209), (770, 1336), (852, 1477), (941, 1336)]
# -10 dBm0 per tone: 0 dBm0 is a sine of amplitude 32768 * 10^(-3.14/20)
AMP = 32768 * 10 ** (-3.14 / 20) * 10 ** (-10 / 20)


def ulaw(sample: int) -> int:
    """G.711 mu-law encoding of one signed 16-bit sample."""
    bias, clip = 0x84, 32635
    sign = 0x80 if sample < 0 else 0
    s = min(abs(sample), clip) + bias
    exponent = 7
    mask = 0x4000
    while exponent > 0 and not s & mask:
        exponent -= 1
        mask >>= 1
    mantissa = (s >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def caller_audio(speech: list, seconds: int) -> list:
    total = seconds * RATE
    out = [speech[i % len(speech)] for i in range(total)]
    key_len = KEY_MS * RATE // 1000
    for n, start in enumerate(range(RATE, total - key_len, KEY_EVERY_S * RATE)):
        lo, hi = KEYS[n % len(KEYS)]
        for i in range(key_len):
            t = i / RATE
            v = AMP * (math.sin(2 * math.pi * lo * t) + math.sin(2 * math.pi * hi * t))
            out[start + i] = int(max(-32768, min(32767, v)))
    return out


def pcap(packets: list) -> bytes:
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    for at_us, rtp in packets:
        udp_len = 8 + len(rtp)
        ip = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 0, 0, 64, 17, 0,
                                   bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])))
        words = struct.unpack(">10H", bytes(ip))
        s = sum(words)
        s = (s & 0xFFFF) + (s >> 16)
        ip[10:12] = struct.pack(">H", ~s & 0xFFFF)
        frame = bytes(12) + b"\x08\x00" + bytes(ip) + struct.pack(">HHHH", 6000, 6002, udp_len, 0) + rtp
        out += struct.pack("<IIII", at_us // 1_000_000, at_us % 1_000_000, len(frame), len(frame))
        out += frame
    return out


def main() -> None:
    raw, seconds, dest = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(raw, "rb") as f:
        data = f.read()
    speech = list(struct.unpack(f"<{len(data) // 2}h", data[: len(data) // 2 * 2]))
    speech += [0] * RATE  # a pause between repeats
    audio = caller_audio(speech, seconds)
    packets = []
    seq, ts, ssrc = 1000, 16000, 0x5EED0001
    for n, i in enumerate(range(0, len(audio) - FRAME + 1, FRAME)):
        payload = bytes(ulaw(s) for s in audio[i : i + FRAME])
        rtp = struct.pack(">BBHII", 0x80, 0, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc) + payload
        packets.append((n * 20_000, rtp))
        seq += 1
        ts += FRAME
    with open(dest, "wb") as f:
        f.write(pcap(packets))
    print(len(packets))


if __name__ == "__main__":
    main()
