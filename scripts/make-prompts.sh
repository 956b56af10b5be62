#!/usr/bin/env bash
# Regenerates an IVR prompt set (prompts/<lang>/*.wav) with espeak-ng and sox: 8 kHz mono 16-bit
# PCM, leading/trailing silence trimmed. Only needed to change the prompts; building and testing
# use the committed WAVs. The names are the contract the gateway loads
# (hushpay_prompts::language::Language::prompt_names); an operator may replace any file
# (docs/payments.md).
#   scripts/make-prompts.sh [en|es] [out-dir]    (default: en, prompts/<lang>)
set -euo pipefail
cd "$(dirname "$0")/.."
lang=${1:-en}
case "$lang" in
  en) default_voice=en-us ;;
  es) default_voice=es-419 ;;
  *) echo "unknown language $lang (en, es)" >&2; exit 2 ;;
esac
out=${2:-prompts/$lang}
voice=${HUSHPAY_PROMPT_VOICE:-$default_voice}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

say() { # name text
  espeak-ng -v "$voice" -s 180 -w "$tmp/$1.raw.wav" "$2"
  sox "$tmp/$1.raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$out/$1.wav" \
    silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse gain -n -3
}

english() {
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
}

spanish() {
  # The flow prompts: the same names as in English.
  say ask-card-number "Por favor, marque el número de su tarjeta, seguido de la tecla numeral."
  say ask-expiration-date "Por favor, marque la fecha de vencimiento: dos dígitos para el mes y dos para el año."
  say ask-security-code "Por favor, marque el código de seguridad que está al reverso de su tarjeta."
  say ask-postal-code "Por favor, marque el código postal de facturación, seguido de la tecla numeral."
  say invalid-card-number "Ese número de tarjeta no es válido."
  say brand-not-allowed "No aceptamos ese tipo de tarjeta."
  say invalid-expiration-date "Esa fecha de vencimiento no es válida."
  say card-expired "Esa tarjeta está vencida."
  say invalid-security-code "Ese código de seguridad no es válido."
  say invalid-postal-code "Ese código postal no es válido."
  say no-input "No recibimos su respuesta."
  say try-again "Por favor, inténtelo de nuevo."
  say restart-field "Empecemos de nuevo ese dato."
  say confirm-paying "Usted va a pagar"
  say confirm-card-ending "con la tarjeta que termina en"
  say confirm-press "Marque uno para confirmar, o asterisco para empezar de nuevo."
  say processing "Por favor, espere mientras procesamos su pago."
  say payment-succeeded "Su pago se realizó con éxito."
  say payment-declined "Su pago fue rechazado."
  say payment-failed "No pudimos completar su pago."
  say too-many-attempts "Demasiados intentos."
  say handing-back "Ahora le comunicamos de nuevo con su agente."
  say hold "El paciente está ingresando los datos de pago. Por favor, espere."
  # Numbers and amounts (hushpay_prompts::speech_es): one word up to 29, the tens, the
  # hundreds, and the words around them. File names are ASCII.
  local words=(cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce
    quince dieciséis diecisiete dieciocho diecinueve veinte veintiuno veintidós veintitrés
    veinticuatro veinticinco veintiséis veintisiete veintiocho veintinueve)
  for i in "${!words[@]}"; do say "n$i" "${words[$i]}"; done
  local tens=(treinta cuarenta cincuenta sesenta setenta ochenta noventa)
  for i in "${!tens[@]}"; do say "n$(((i + 3) * 10))" "${tens[$i]}"; done
  local hundreds=(doscientos trescientos cuatrocientos quinientos seiscientos setecientos
    ochocientos novecientos)
  for i in "${!hundreds[@]}"; do say "n$(((i + 2) * 100))" "${hundreds[$i]}"; done
  say cien "cien"
  say ciento "ciento"
  say mil "mil"
  say millon "millón"
  say millones "millones"
  say un "un"
  say veintiun "veintiún"
  say y "y"
  say con "con"
  say de "de"
  say coma "coma"
  say dolar "dólar"
  say dolares "dólares"
  say centavo "centavo"
  say centavos "centavos"
  say euro "euro"
  say euros "euros"
  say centimo "céntimo"
  say centimos "céntimos"
}

case "$lang" in
  en) english ;;
  es) spanish ;;
esac
echo "$(cat "$out"/*.wav | wc -c) bytes in $(ls "$out"/*.wav | wc -l) prompts"
