/**
 * scikit-learn's default text analysis: lowercase, then tokens of two or more word characters
 * (`(?u)\b\w\w+\b`). As in Python, Unicode letters, numbers and `_` are word characters
 * (combining marks are not).
 */
const tokenPattern = /[\p{L}\p{N}_]{2,}/gu;

export function tokenize(text: string): string[] {
  return text.toLowerCase().match(tokenPattern) ?? [];
}
