#!/usr/bin/env bash
# Regenerates the default English IVR prompt set (prompts/en/*.wav) with espeak-ng and sox:
# 8 kHz mono 16-bit PCM, leading/trailing silence trimmed. Only needed to change the prompts;
# building and testing use the committed WAVs. The names are the contract the gateway loads
# (hushpay_media::prompt::PROMPT_NAMES); an operator may replace any file (docs/payments.md).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-prompts/en}
voice=${HUSHPAY_PROMPT_VOICE:-en-us}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

say() { # name text
  espeak-ng -v "$voice" -s 180 -w "$tmp/$1.raw.wav" "$2"
  sox "$tmp/$1.raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$out/$1.wav" \
    silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse gain -n -3
}

# Field requests.
say ask-card-number "Please enter your card number, followed by the hash key."
say ask-expiration-date "Please enter the expiry date, as two digits for the month and two for the year."
say ask-security-code "Please enter the security code from the back of your card."
say ask-postal-code "Please enter your billing postal code, followed by the hash key."
# Invalid entries, re-enter.
say invalid-card-number "That card number is not valid."
say brand-not-allowed "That type of card is not accepted."
say invalid-expiration-date "That expiry date is not valid."
say card-expired "That card has expired."
say invalid-security-code "That security code is not valid."
say invalid-postal-code "That postal code is not valid."
say no-input "We did not receive your entry."
say try-again "Please try again."
say restart-field "Starting that entry again."
# Confirm, process, result, hand back.
say confirm-paying "You are paying"
say confirm-card-ending "with the card ending in"
say confirm-press "Press 1 to confirm, or star to start again."
say processing "Please wait while we process your payment."
say payment-succeeded "Your payment was successful."
say payment-declined "Your payment was declined."
say payment-failed "We could not complete your payment."
say too-many-attempts "Too many attempts."
say handing-back "Returning you to your agent now."
say hold "The caller is entering payment details. Please hold."
# Numbers and amounts.
words=(zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
  fifteen sixteen seventeen eighteen nineteen)
for i in "${!words[@]}"; do say "n$i" "${words[$i]}"; done
tens=(twenty thirty forty fifty sixty seventy eighty ninety)
for i in "${!tens[@]}"; do say "n$(((i + 2) * 10))" "${tens[$i]}"; done
say hundred "hundred"
say thousand "thousand"
say million "million"
say and "and"
say point "point"
say dollars "dollars"
say dollar "dollar"
say cents "cents"
say cent "cent"
say pounds "pounds"
say pound "pound"
say pence "pence"
say penny "penny"
say euros "euros"
say euro "euro"
echo "$(cat "$out"/*.wav | wc -c) bytes in $(ls "$out"/*.wav | wc -l) prompts"
