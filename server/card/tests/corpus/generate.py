#!/usr/bin/env python3
"""Generates the chat-scan corpora (deterministic; re-run to regenerate).

benign.txt      text that must pass untouched: phone numbers (US, UK, international),
                dates, times, medical record numbers, order/tracking numbers, amounts.
obfuscated.txt  public test card numbers written the ways people (and evasive people)
                write them: grouped, separated, other scripts' digits, invisible characters.
split.txt       test card numbers split across consecutive messages; ' || ' separates
                the messages of one sender.

Only public test card numbers appear here. Usage: python3 generate.py (in this folder).
"""
import random

rng = random.Random(20261128)


def d(n):
    return "".join(rng.choice("0123456789") for _ in range(n))


def nz(n):
    return rng.choice("123456789") + d(n - 1)


def us_phone():
    a, b, c = nz(3), nz(3), d(4)
    return rng.choice([
        f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"{a}.{b}.{c}", f"+1 {a} {b} {c}", f"1-{a}-{b}-{c}",
        f"+1 ({a}) {b}-{c}", f"{a} {b} {c}", f"1 800 {b} {c}",
    ])


def uk_phone():
    return rng.choice([
        f"+44 20 {d(4)} {d(4)}", f"020 {d(4)} {d(4)}", f"07{d(3)} {d(6)}", f"+44 7{d(3)} {d(6)}",
        f"0161 {d(3)} {d(4)}", f"+44 (0)20 {d(4)} {d(4)}", f"0800 {d(3)} {d(4)}",
    ])


def intl_phone():
    return rng.choice([
        f"+49 30 {d(6)} {d(2)}", f"+33 1 {d(2)} {d(2)} {d(2)} {d(2)}", f"+91 9{d(4)} {d(5)}",
        f"+86 13{d(1)} {d(4)} {d(4)}", f"+61 2 {d(4)} {d(4)}", f"+81 3-{d(4)}-{d(4)}",
        f"+55 11 9{d(4)}-{d(4)}", f"+234 803 {d(3)} {d(4)}", f"+52 55 {d(4)} {d(4)}",
        f"+353 1 {d(3)} {d(4)}", f"+971 50 {d(3)} {d(4)}", f"+65 {d(4)} {d(4)}",
        f"0049 30 {d(6)} {d(2)}", f"+1-{nz(3)}-{nz(3)}-{d(4)} ext. {d(3)}",
    ])


def date():
    y, m, dd = rng.randint(1930, 2030), rng.randint(1, 12), rng.randint(1, 28)
    hh, mm = rng.randint(0, 23), rng.randint(0, 59)
    return rng.choice([
        f"{y}-{m:02}-{dd:02}", f"{m:02}/{dd:02}/{y}", f"{dd:02}.{m:02}.{y}", f"{m}/{dd}/{y % 100:02}",
        f"{y}-{m:02}-{dd:02} {hh:02}:{mm:02}", f"{dd}/{m}/{y} at {hh}:{mm:02}",
        f"{y}{m:02}{dd:02}", f"{m:02}/{y % 100:02}",
    ])


def date_range():
    return rng.choice([f"{date()} to {date()}", f"{date()} - {date()}", f"{date()}–{date()}", f"between {date()} and {date()}"])


def mrn():
    return rng.choice([
        f"MRN {d(8)}", f"MRN: {nz(10)}", f"patient ID {d(2)}-{d(3)}-{d(3)}", f"acct {d(4)} {d(4)} {d(2)}",
        f"NPI {nz(10)}", f"member ID XJ{d(9)}", f"group {d(6)}", f"claim #{nz(11)}", f"DEA AB{d(7)}",
        f"SSN ending {d(4)}", f"Rx {d(7)}", f"encounter {nz(9)}", f"chart {d(3)}-{d(4)}",
    ])


def order():
    return rng.choice([
        f"order #{d(3)}-{d(7)}-{d(7)}", f"order {nz(10)}", f"INV-{rng.randint(2019, 2026)}-{d(6)}",
        f"tracking 1Z{d(3)}AA{d(10)}", f"tracking {d(4)} {d(4)} {d(4)} {d(4)} {d(4)} {d(2)}",
        f"ref {nz(8)}", f"confirmation {nz(6)}", f"PO {d(5)}", f"ticket #{nz(7)}",
        f"case {nz(8)}", f"auth code {d(6)}", f"invoice {nz(12)}",
    ])


def amount():
    return rng.choice([
        f"${rng.randint(1, 9999):,}.{d(2)}", f"£{rng.randint(1, 999)}.{d(2)}", f"{rng.randint(1, 9)} {d(3)},{d(2)} €",
        f"${rng.randint(1000, 99999999):,}.{d(2)}", f"USD {rng.randint(1, 5000)}.{d(2)}", f"{rng.randint(1, 100)}%",
        f"copay ${rng.randint(5, 80)}", f"balance ${rng.randint(100, 20000):,}.{d(2)}",
    ])


TEMPLATES = [
    "You can reach me at {p}.", "My number is {p}, call after 5.", "Call {p} or {p2}.",
    "home {p} cell {p2}", "{p} / {p2}", "fax: {p}", "Appointment on {dt}.", "DOB {dt}",
    "Seen {r}.", "Admitted {dt}, discharged {dt2}.", "My {m} please check", "{m}, DOB {dt}",
    "I paid {a} on {dt}", "Where is my {o}?", "{o} was charged {a}", "balance {a} as of {dt}",
    "{m} {o}", "Refill for {m} on {dt}", "{p}", "{dt}", "{m}", "{o}", "{a}",
]


def benign_line():
    t = rng.choice(TEMPLATES)
    p = rng.choice([us_phone, uk_phone, intl_phone])
    return t.format(p=p(), p2=rng.choice([us_phone, uk_phone, intl_phone])(), dt=date(), dt2=date(),
                    r=date_range(), m=mrn(), o=order(), a=amount())


CARDS = [
    "4111111111111111", "4012888888881881", "4222222222222", "5555555555554444", "5105105105105100",
    "2223003122003222", "378282246310005", "371449635398431", "6011111111111117", "6011000990139424",
    "30569309025904", "3530111333300000", "6200000000000005", "6759649826438453",
]

SCRIPTS = {"fullwidth": 0xFF10, "arabic": 0x0660, "persian": 0x06F0, "devanagari": 0x0966,
           "bengali": 0x09E6, "thai": 0x0E50, "math-bold": 0x1D7CE, "math-mono": 0x1D7F6,
           "myanmar": 0x1040, "nko": 0x07C0}


def groups(card):
    if card.startswith(("34", "37")):
        return [card[:4], card[4:10], card[10:]]
    if len(card) == 14:
        return [card[:4], card[4:10], card[10:]]
    return [card[i:i + 4] for i in range(0, len(card), 4)]


def script(card, zero):
    return "".join(chr(zero + int(c)) for c in card)


def obfuscations(card):
    g = groups(card)
    out = [
        ("plain", card), ("spaces", " ".join(g)), ("dashes", "-".join(g)), ("dots", ".".join(g)),
        ("slashes", "/".join(g)), ("spaced-dash", " - ".join(g)), ("emdash", "\u2014".join(g)),
        ("nbsp", "\u00a0".join(g)), ("ideographic-space", "\u3000".join(g)), ("underscore", "_".join(g)),
        ("every-digit-space", " ".join(card)), ("zwsp-every-digit", "\u200b".join(card)),
        ("zwj-zwnj", "\u200d".join(g[:2]) + "\u200c" + "\u200d".join(g[2:])),
        ("soft-hyphen", "\u00ad".join(g)), ("bom-word-joiner", "\ufeff" + "\u2060".join(g)),
        ("bidi-override", "\u202e\u202d" + " ".join(g) + "\u202c"), ("keycap", "".join(c + "\ufe0f\u20e3" for c in card)),
        ("sentence", f"hi my card number is {' '.join(g)} thanks"), ("with-expiry", f"{' '.join(g)} exp 12/28 cvv 123"),
        ("card-then-expiry-digits", f"{' '.join(g)} 12/28"), ("fullwidth-dash", "\uff0d".join(g)),
        ("mixed-separators", g[0] + " " + "-".join(g[1:3]) + "." + ".".join(g[3:]) if len(g) > 3 else " . ".join(g)),
        ("phone-then-card", f"call 555 123 4567 {' '.join(g)}"),
    ]
    for name, zero in SCRIPTS.items():
        out.append((name, " ".join(script(x, zero) for x in g)))
    scripts = list(SCRIPTS.values())
    out.append(("mixed-scripts", " ".join(script(x, scripts[i % len(scripts)]) for i, x in enumerate(g))))
    out.append(("fullwidth-zwsp", "\u200b".join(script(card, 0xFF10))))
    return out


def splits(card):
    g = groups(card)
    return [
        " || ".join([" ".join(g[:2]), " ".join(g[2:])]),
        " || ".join(g),
        " || ".join([card[:6], card[6:]]),
        " || ".join(card),
        " || ".join(["\u200b".join(script(g[0], 0xFF10)), " ".join(g[1:])]),
        " || ".join([f"{' '.join(g[:2])}", "\u2060", " ".join(g[2:]) + " ok?"]),
    ]


def main():
    with open("benign.txt", "w", encoding="utf-8") as f:
        f.write("# Benign chat lines (generated by generate.py): none must be redacted ideally.\n")
        for _ in range(400):
            f.write(benign_line() + "\n")
    with open("obfuscated.txt", "w", encoding="utf-8") as f:
        f.write("# Public test card numbers, obfuscated (generated by generate.py): all must be caught.\n")
        for card in CARDS:
            for name, text in obfuscations(card):
                f.write(f"{name}\t{text}\n")
    with open("split.txt", "w", encoding="utf-8") as f:
        f.write("# Public test card numbers split over messages (' || '): all must be caught.\n")
        for card in CARDS:
            for text in splits(card):
                f.write(text + "\n")


if __name__ == "__main__":
    main()
