/** The primary language subtag of a BCP 47 locale, lower case (`es-US` → `es`). */
export function primaryLanguage(locale: string | undefined | null): string {
  return (locale ?? '').split(/[-_]/)[0]?.toLowerCase() ?? '';
}
