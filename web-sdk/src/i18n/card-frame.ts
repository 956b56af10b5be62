/**
 * The card iframe's strings by language, apart from the other catalogues so that the iframe's
 * bundle (size-budgeted: web-sdk/build.mjs) carries only its own strings. One entry per
 * language of `CATALOGUES` (catalogue.ts; a unit test keeps the two in step).
 */
import type { CardFrameStrings } from './catalogue';
import { primaryLanguage } from './language';
import { enCardFrame } from './en';
import { esCardFrame } from './es';

export const CARD_FRAME_STRINGS: Readonly<Record<string, CardFrameStrings>> = { en: enCardFrame, es: esCardFrame };

/** The card iframe's strings for a BCP 47 locale; English for a missing or unknown one. */
export function cardFrameStrings(locale: string | undefined | null): CardFrameStrings {
  return CARD_FRAME_STRINGS[primaryLanguage(locale)] ?? enCardFrame;
}
