import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  cardValid,
  cnResidentIdValid,
  ibanCheckDigits,
  ibanValid,
  luhnCheckDigit,
  luhnValid,
  ssnValid,
  usccOrgCodeValid,
  usccValid,
  validBirthDate,
} from "./checksums.js";

describe("checksum validators", () => {
  it("Luhn: the published test cards pass, a changed digit fails", () => {
    assert.ok(luhnValid("79927398713"), "the Luhn algorithm's textbook example");
    for (const number of [
      "4111111111111111", // Visa
      "5555555555554444", // Mastercard
      "2223003122003222", // Mastercard 2-series
      "378282246310005", // Amex
      "6011111111111117", // Discover
      "3530111333300000", // JCB
      "6200000000000005", // UnionPay 16
      "6205500000000000004", // UnionPay 19
    ]) {
      assert.ok(luhnValid(number), number);
      assert.ok(cardValid(number), `${number} is a known network`);
      const broken = number.slice(0, -1) + String((Number(number.at(-1)) + 1) % 10);
      assert.equal(luhnValid(broken), false, broken);
    }
    assert.equal(luhnCheckDigit("7992739871"), "3");
    assert.equal(cardValid("1234567812345670"), false, "Luhn-valid but no network starts with 1");
    assert.equal(luhnValid("12a4"), false);
  });

  it("IBAN: registry examples pass; wrong check digits, lengths or countries fail", () => {
    for (const iban of [
      "GB82WEST12345698765432",
      "DE89370400440532013000",
      "FR1420041010050500013M02606",
      "NL91ABNA0417164300",
      "CH9300762011623852957",
      "BE68539007547034",
    ]) {
      assert.ok(ibanValid(iban), iban);
    }
    assert.equal(ibanValid("GB82WEST12345698765433"), false, "changed last digit");
    assert.equal(ibanValid("GB83WEST12345698765432"), false, "changed check digits");
    assert.equal(ibanValid("DE8937040044053201300"), false, "one character short");
    assert.equal(ibanValid("ZZ82WEST12345698765432"), false, "unknown country");
    assert.equal(ibanCheckDigits("GB", "WEST12345698765432"), "82");
  });

  it("US SSN: SSA structure rules", () => {
    assert.ok(ssnValid("536904399"));
    assert.ok(ssnValid("001010001"));
    for (const bad of [
      "000123456",
      "666123456",
      "900123456",
      "999123456",
      "123004567",
      "123450000",
      "078051120",
      "12345678",
      "12345678a",
    ]) {
      assert.equal(ssnValid(bad), false, bad);
    }
  });

  it("Chinese resident ID: GB 11643 check character (incl. X), birth date and region", () => {
    const today = new Date("2025-01-01T00:00:00Z");
    assert.ok(cnResidentIdValid("11010519491231002X", today), "the standard's example, check X");
    assert.ok(cnResidentIdValid("11010519491231002x", today), "lowercase x");
    assert.ok(cnResidentIdValid("440308199901010012", today));
    assert.ok(cnResidentIdValid("310104198001011239", today));
    assert.equal(cnResidentIdValid("310104198001011234", today), false, "wrong check digit");
    assert.equal(cnResidentIdValid("110105194902300016", today), false, "30 February");
    assert.equal(cnResidentIdValid("990105194912310025", today), false, "no province 99");
    assert.equal(cnResidentIdValid("110105203012310020", today), false, "born in the future");
    assert.equal(validBirthDate("20000229"), true, "leap day");
    assert.equal(validBirthDate("19000229"), false, "1900 was not a leap year");
  });

  it("USCC: GB 32100 check character; organisation code check is separate", () => {
    assert.ok(usccValid("91350100M000100Y43"), "the standard's example");
    assert.ok(usccValid("91440300708461136T"));
    assert.equal(usccValid("91350100M000100Y44"), false);
    assert.equal(usccValid("91440300708461136A"), false);
    assert.equal(usccValid("9135010OM000100Y43"), false, "O is not in the alphabet");
    assert.equal(usccValid("91350100M000100Y4"), false, "17 characters");
    assert.ok(usccOrgCodeValid("91440300708461136T"), "70846113-6 is a valid GB 11714 code");
  });
});
