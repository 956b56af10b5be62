#!/bin/sh
# Regenerates the talk-off speech corpus: espeak-ng voices -> sox -> 8 kHz mono 16-bit WAV.
# Needs the Debian packages espeak-ng and sox. Output is committed; rerun only to change it.
set -eu
cd "$(dirname "$0")/speech"
say() { # name voice speed pitch text
    espeak-ng -v "$2" -s "$3" -p "$4" -w /tmp/hushpay-speech.wav "$5"
    sox /tmp/hushpay-speech.wav -r 8000 -c 1 -b 16 -e signed-integer "$1.wav" gain -n -12
}
EN1="Thank you for calling the clinic billing office. Your appointment on the fourteenth of March has an outstanding balance of one hundred and twenty nine dollars. Would you like to pay that today with a card?"
EN2="Please have your card ready. I will put you into secure mode now, and you can key the sixteen digits on your phone keypad, followed by the hash key. Then the expiry date and the three digit security code."
EN3="My date of birth is the second of November nineteen eighty seven, and my postcode is nine oh two one oh. The reference number on my letter is four four seven, one two, three nine."
EN4="Hello? Hello, can you hear me? Sorry, the line was breaking up. Yes, I am calling about my prescription refill, the pharmacy said it needs approval from doctor Alvarez."
EN5="Oh, really? That is wonderful news! Ha ha. Well, I was worried, you know, because the test results took so long. Hmm. Okay. Mm hmm. Right, right, I see."
DE1="Guten Tag, ich möchte meine Rechnung bezahlen. Die Rechnungsnummer ist sieben acht neun, und der Betrag ist zweihundert Euro."
FR1="Bonjour, je voudrais payer ma facture de la consultation du mois dernier. Pouvez-vous me donner le montant exact, s'il vous plaît?"
ES1="Buenos días, llamo para pagar la factura del hospital. Mi número de paciente es tres cinco ocho dos uno, gracias."
say en-male-1    en+m3     160 50 "$EN1"
say en-female-1  en+f3     170 60 "$EN2"
say en-us-male-2 en-us+m1  150 35 "$EN3"
say en-us-fem-2  en-us+f2  180 75 "$EN4"
say en-child     en+f5     150 90 "$EN5"
say en-low       en+m7     130 20 "$EN2"
say en-fast      en-us+m4  230 55 "$EN1"
say de-female    de+f1     160 55 "$DE1"
say fr-male      fr+m2     160 45 "$FR1"
say es-female    es+f4     165 65 "$ES1"
say en-whisper   en+whisper 160 50 "$EN4"
say en-croak     en+croak  150 40 "$EN3"
rm -f /tmp/hushpay-speech.wav
