#!/bin/sh
# Speech, babble and music sources for the "keypad tones under speech" corpus (issue 18):
# espeak-ng voices (texts and voices distinct from the talk-off corpus in
# server/media/tests/data/speech) -> sox -> 8 kHz mono 16-bit WAV, babble = 5 voices mixed,
# music = sox-synthesised plucked/organ melodies. Deterministic (espeak-ng and sox have no
# randomness here), about 6 MB, written under the directory given as $1; not committed.
# Needs the Debian packages espeak-ng and sox.
# Usage: bench/dtmf-compare/make-speech-sources.sh OUTDIR
set -eu
OUT="${1:?usage: $0 OUTDIR}"
mkdir -p "$OUT"
TMP="$OUT/.tmp.wav"
say() { # name voice speed pitch text
    espeak-ng -v "$2" -s "$3" -p "$4" -w "$TMP" "$5"
    sox "$TMP" -r 8000 -c 1 -b 16 -e signed-integer "$OUT/speech-$1.wav" gain -n -12
}
T1="Yes, hello, I am calling because I received a bill for the blood tests from last month, and I think it was already paid by my insurance. Could you check that for me? The claim number should be on the letter somewhere."
T2="Okay, I have the card here now. Is it the long number on the front? Just a moment, my glasses, where did I put them. Right, I am typing it in now, tell me if it does not go through."
T3="The total comes to three hundred and forty two dollars and fifteen cents. We can also set up a payment plan over six months if that is easier for you, there is no extra charge for it."
T4="Sorry, my daughter is talking in the background. Can you repeat the last part? I did not catch whether I need to press the star key or the pound key at the end."
T5="Wait, wait, I think I pressed the wrong button. Should I start again from the beginning? Oh dear, these little buttons are so hard to see without the light on."
T6="Good afternoon. This is the billing department calling about your account. Please listen carefully, as some of our options have changed since your last visit to the practice."
T7="Ja, also, die Karte ist von meiner Frau, geht das auch? Ich gebe die Nummer jetzt ein, einen Moment bitte, das dauert ein bisschen."
T8="Un momento, por favor, estoy buscando la tarjeta en mi bolso. Ya la tengo. Voy a marcar los números ahora, dígame si hay algún problema."
T9="Allô, oui, je vous entends mal. Je tape le numéro de ma carte maintenant, et ensuite la date d'expiration, c'est bien ça?"
T10="Hello? Hello, can you hear me now? I am on the mobile in the car park, the signal keeps dropping. Right, the card number, here it comes, seven digits first and then the rest."
T11="Pronto, sì, sono io. Adesso inserisco il numero della carta, mi dica lei quando ha finito, va bene? Grazie mille, molto gentile."
say scot-andy   en-gb-scotland+Andy  165 45 "$T1"
say us-annie    en-us+Annie          175 70 "$T2"
say klatt       en+klatt             150 50 "$T3"
say caribbean   en-029+f2            160 65 "$T4"
say nyc-m2      en-us-nyc+m2         185 40 "$T5"
say rp-alicia   en-gb-x-rp+Alicia    155 60 "$T6"
say grandpa     en+grandpa           130 30 "$T5"
say female3     en-us+female3        170 80 "$T1"
say storm       en-us+Storm          160 45 "$T4"
say de-max      de+Max               160 45 "$T7"
say es-steph    es+Steph             170 70 "$T8"
say fr-michel   fr+Michel            165 40 "$T9"
say lanc-linda  en-gb-x-gbclan+linda 180 75 "$T10"
say wmid-m3     en-gb-x-gbcwmd+m3    170 35 "$T3"
say us-f4       en-us+f4             190 90 "$T2"
say it-anika    it+anika             175 65 "$T11"
# Babble: five or six voices started at different times, mixed (the result normalised like the rest).
babble() { # name files...
    name="$1"; shift
    i=0; args=""
    for f in "$@"; do
        sox "$OUT/speech-$f.wav" "$OUT/.b$i.wav" pad "0.$((i * 3))" 0
        args="$args $OUT/.b$i.wav"; i=$((i + 1))
    done
    # shellcheck disable=SC2086
    sox -m $args "$OUT/.mix.wav"
    sox "$OUT/.mix.wav" -r 8000 -c 1 -b 16 -e signed-integer "$OUT/babble-$name.wav" trim 0 14 gain -n -12
    rm -f "$OUT"/.b*.wav "$OUT/.mix.wav"
}
babble a scot-andy us-annie klatt caribbean nyc-m2
babble b rp-alicia female3 storm de-max es-steph
babble c lanc-linda wmid-m3 us-f4 it-anika grandpa fr-michel
# Music: two melodies of plucked strings and a square-wave organ with chords, notes from a fixed
# list that passes near DTMF frequencies (F5 698 Hz, F#5 740, G5 784, A#5 932, D6 1175, ...).
music() { # name synth notes...
    name="$1"; synth="$2"; shift 2
    args=""; i=0
    for n in "$@"; do
        sox -n -r 8000 -c 1 -b 16 "$OUT/.n$i.wav" synth 0.28 "$synth" "$n" synth 0.28 "$synth" mix "%-5" fade 0 0.28 0.1
        args="$args $OUT/.n$i.wav"; i=$((i + 1))
    done
    # shellcheck disable=SC2086
    sox $args "$OUT/music-$name.wav" gain -n -12
    rm -f "$OUT"/.n*.wav
}
NOTES="%-7 %8 %10 %11 %12 %13 %15 %17 %-2 %3 %8 %13 %14 %17 %20 %9 %10 %11 %12 %-5 %0 %4 %7 %12 %16 %19 %8 %13 %15 %17"
# shellcheck disable=SC2086
music pluck pluck $NOTES $NOTES
# shellcheck disable=SC2086
music organ square $NOTES $NOTES
rm -f "$TMP"
ls "$OUT"/*.wav | wc -l
