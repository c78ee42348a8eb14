/** Character-class helpers for the hand-written scanners (ASCII only: identifiers are ASCII). */

export function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

export function isAsciiLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

export function isAsciiAlnum(code: number): boolean {
  return isDigit(code) || isAsciiLetter(code);
}

/** True when the character before `start` and the one at `end` are not ASCII letters or digits. */
export function standsAlone(text: string, start: number, end: number): boolean {
  return (
    (start === 0 || !isAsciiAlnum(text.charCodeAt(start - 1))) &&
    (end >= text.length || !isAsciiAlnum(text.charCodeAt(end)))
  );
}

/** Removes spaces and dashes (the separators people put in card, phone and IBAN numbers). */
export function stripSeparators(value: string): string {
  return value.replace(/[ \-.()\u00a0]/g, "");
}
