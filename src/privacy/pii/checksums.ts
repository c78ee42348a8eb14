/**
 * Check-digit validators for the checksum-validated PII types. Each takes the bare identifier
 * (separators already removed) and is pure, so they are easy to test against published vectors.
 */

/** Luhn (ISO/IEC 7812-1) over a string of digits: payment cards. */
export function luhnValid(digits: string): boolean {
  if (!/^[0-9]{2,32}$/.test(digits)) return false;
  let sum = 0;
  let double = false;
  for (let index = digits.length - 1; index >= 0; index--) {
    let value = digits.charCodeAt(index) - 48;
    if (double) {
      value *= 2;
      if (value > 9) value -= 9;
    }
    sum += value;
    double = !double;
  }
  return sum % 10 === 0;
}

/** The Luhn check digit that makes `payload + digit` valid (used by the evaluation-set generator). */
export function luhnCheckDigit(payload: string): string {
  for (let digit = 0; digit <= 9; digit++) if (luhnValid(`${payload}${digit}`)) return String(digit);
  throw new Error("unreachable: one Luhn digit always fits");
}

/** Total IBAN length per country (ISO 13616 registry). */
// biome-ignore format: a country table reads better in rows than one entry per line
export const ibanLengths: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28,
  CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18,
  FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22,
  IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20,
  LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18,
  NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31,
  SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29,
  VA: 22, VG: 24, XK: 20,
};

/** ISO 7064 MOD 97-10 remainder of an alphanumeric string (letters are A=10 … Z=35). */
export function mod97(value: string): number {
  let remainder = 0;
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code >= 48 && code <= 57) remainder = (remainder * 10 + (code - 48)) % 97;
    else if (code >= 65 && code <= 90) remainder = (remainder * 100 + (code - 55)) % 97;
    else return -1;
  }
  return remainder;
}

/** IBAN: known country, that country's length, and MOD 97-10 of the rearranged string equal to 1. */
export function ibanValid(iban: string): boolean {
  const value = iban.toUpperCase();
  const length = ibanLengths[value.slice(0, 2)];
  if (length === undefined || value.length !== length) return false;
  if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]+$/.test(value)) return false;
  return mod97(`${value.slice(4)}${value.slice(0, 4)}`) === 1;
}

/** The two check digits for a country code and BBAN (used by the evaluation-set generator). */
export function ibanCheckDigits(country: string, bban: string): string {
  const remainder = mod97(`${bban}${country}00`);
  return String(98 - remainder).padStart(2, "0");
}

/**
 * US Social Security Number structure (SSA rules since 2011 randomisation): area not 000, 666 or
 * 900-999; group not 00; serial not 0000. Also rejects a few numbers the SSA voided after they
 * were published (078-05-1120, the Woolworth wallet card; 219-09-9999, an SSA advert).
 */
export function ssnValid(digits: string): boolean {
  if (!/^[0-9]{9}$/.test(digits)) return false;
  const area = digits.slice(0, 3);
  if (area === "000" || area === "666" || area[0] === "9") return false;
  if (digits.slice(3, 5) === "00" || digits.slice(5) === "0000") return false;
  if (digits === "078051120" || digits === "219099999") return false;
  return true;
}

const residentIdWeights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const residentIdCheckChars = "10X98765432";

/** GB 11643 / ISO 7064 MOD 11-2 check character for the first 17 digits of a resident ID. */
export function cnResidentIdCheckChar(first17: string): string {
  let sum = 0;
  for (let index = 0; index < 17; index++) sum += (first17.charCodeAt(index) - 48) * (residentIdWeights[index] ?? 0);
  return residentIdCheckChars[sum % 11] ?? "?";
}

/** Province-level region codes (first two digits) of GB/T 2260, plus 71/81/82 (Taiwan, HK, Macao). */
const cnProvinceCodes = new Set([
  11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63,
  64, 65, 71, 81, 82,
]);

export function cnRegionCodePlausible(code6: string): boolean {
  if (!/^[0-9]{6}$/.test(code6)) return false;
  return cnProvinceCodes.has(Number(code6.slice(0, 2))) && code6.slice(2) !== "0000";
}

/** A real calendar date between 1900-01-01 and `today` (birth dates cannot be in the future). */
export function validBirthDate(yyyymmdd: string, today: Date = new Date()): boolean {
  if (!/^[0-9]{8}$/.test(yyyymmdd)) return false;
  const year = Number(yyyymmdd.slice(0, 4));
  const month = Number(yyyymmdd.slice(4, 6));
  const day = Number(yyyymmdd.slice(6, 8));
  if (year < 1900 || month < 1 || month > 12 || day < 1) return false;
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return false; // 0230 etc.
  return date.getTime() <= today.getTime();
}

/**
 * 18-character Chinese resident identity number (GB 11643-1999): 6-digit region code, 8-digit
 * birth date, 3-digit sequence, MOD 11-2 check character (0-9 or X).
 */
export function cnResidentIdValid(id: string, today: Date = new Date()): boolean {
  const value = id.toUpperCase();
  if (!/^[0-9]{17}[0-9X]$/.test(value)) return false;
  if (!cnRegionCodePlausible(value.slice(0, 6))) return false;
  if (!validBirthDate(value.slice(6, 14), today)) return false;
  return cnResidentIdCheckChar(value.slice(0, 17)) === value[17];
}

/** GB 32100-2015 character set: digits and capitals without I, O, Z, S, V. */
export const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const usccWeights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** GB 32100 check character of the first 17 characters of a unified social credit code. */
export function usccCheckChar(first17: string): string | undefined {
  let sum = 0;
  for (let index = 0; index < 17; index++) {
    const value = usccAlphabet.indexOf(first17[index] ?? "");
    if (value < 0) return undefined;
    sum += value * (usccWeights[index] ?? 0);
  }
  return usccAlphabet[(31 - (sum % 31)) % 31];
}

/**
 * Unified social credit code (统一社会信用代码): 18 characters of the GB 32100 alphabet, positions
 * 3-8 a 6-digit region code, the last character the GB 32100 check character.
 */
export function usccValid(code: string): boolean {
  const value = code.toUpperCase();
  if (value.length !== 18) return false;
  if (!/^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$/.test(value)) return false;
  return usccCheckChar(value.slice(0, 17)) === value[17];
}

/**
 * The organisation code inside a USCC (positions 9-17) carries its own GB 11714 check character;
 * codes issued to organisations pass it, so it raises confidence without being required.
 */
export function usccOrgCodeValid(code: string): boolean {
  const org = code.toUpperCase().slice(8, 17);
  if (!/^[0-9A-Z]{8}[0-9X]$/.test(org)) return false;
  const weights = [3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let index = 0; index < 8; index++) {
    const ch = org.charCodeAt(index);
    const value = ch <= 57 ? ch - 48 : ch - 55;
    sum += value * (weights[index] ?? 0);
  }
  const check = 11 - (sum % 11);
  const expected = check === 10 ? "X" : check === 11 ? "0" : String(check);
  return org[8] === expected;
}

/** Payment networks by issuer prefix and allowed lengths (ISO/IEC 7812 IIN ranges). */
export function cardNetwork(digits: string): string | undefined {
  const length = digits.length;
  const p2 = Number(digits.slice(0, 2));
  const p3 = Number(digits.slice(0, 3));
  const p4 = Number(digits.slice(0, 4));
  if (digits[0] === "4" && (length === 13 || length === 16 || length === 19)) return "visa";
  if (((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) && length === 16) return "mastercard";
  if ((p2 === 34 || p2 === 37) && length === 15) return "amex";
  if (p2 === 62 && length >= 16 && length <= 19) return "unionpay";
  if ((p4 === 6011 || (p3 >= 644 && p3 <= 649) || p2 === 65) && length >= 16 && length <= 19) return "discover";
  if (p4 >= 3528 && p4 <= 3589 && length >= 16 && length <= 19) return "jcb";
  if (((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39) && length >= 14 && length <= 19)
    return "diners";
  if ((p2 === 50 || (p2 >= 56 && p2 <= 58) || p2 === 67 || p2 === 63) && length >= 12 && length <= 19) return "maestro";
  return undefined;
}

/** A card number: a known network's prefix and length, and a valid Luhn digit. */
export function cardValid(digits: string): boolean {
  return /^[0-9]{12,19}$/.test(digits) && cardNetwork(digits) !== undefined && luhnValid(digits);
}
