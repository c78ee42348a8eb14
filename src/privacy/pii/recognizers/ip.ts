import { isIPv6 } from "node:net";
import { createContextMatcher } from "../context.js";
import type { PiiCandidate, PiiRecognizer } from "../types.js";

/**
 * IPv4 (each octet 0-255, no leading zeros, not part of a longer dotted run such as a version
 * "1.2.3.4.5") and IPv6 (validated by node:net). IPv6 is found by expanding around each ':' over
 * hex digits, colons and dots, which is linear; only candidates with two colons reach the validator.
 */
const octet = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
const ipv4Pattern = new RegExp(`(?<![0-9A-Za-z.])(?:${octet}\\.){3}${octet}(?![0-9A-Za-z]|\\.[0-9])`, "g");
const context = createContextMatcher([
  "ip",
  "ip address",
  "ipv4",
  "ipv6",
  "address",
  "host",
  "server",
  "client",
  "地址",
  "服务器",
  "主机",
]);

const hexOrColon = (code: number) =>
  (code >= 48 && code <= 58) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102); // 0-9 : A-F a-f

export function createIpRecognizer(): PiiRecognizer {
  return {
    name: "ip",
    types: ["IP_ADDRESS"],
    find(text, out: PiiCandidate[]) {
      for (const match of text.matchAll(ipv4Pattern)) {
        const start = match.index ?? 0;
        const end = start + match[0].length;
        // "version 1.2.3.4" is a version number more often than an address.
        const versionLike = /(?:version|ver\.?|v|版本)\s*$/i.test(text.slice(Math.max(0, start - 10), start));
        const score = context.near(text, start, end) ? 0.95 : versionLike ? 0.3 : 0.75;
        out.push({ type: "IP_ADDRESS", start, end, score });
      }
      findIpv6(text, out);
    },
  };
}

function findIpv6(text: string, out: PiiCandidate[]): void {
  let colon = text.indexOf(":");
  let scannedUntil = 0;
  while (colon >= 0) {
    let start = colon;
    while (start > scannedUntil && colon - start < 40 && hexOrColon(text.charCodeAt(start - 1))) start--;
    let end = colon + 1;
    // Dots allow an embedded IPv4 tail (::ffff:192.0.2.1).
    while (end < text.length && end - start < 46 && (hexOrColon(text.charCodeAt(end)) || text.charCodeAt(end) === 46))
      end++;
    scannedUntil = end;
    // Seven colons, six before an IPv4 tail, or a "::": a run without (a time such as 10:30:00)
    // cannot become an address by trimming, so it is dropped before any string is made.
    if (!plausibleIpv6Run(text, start, end)) {
      colon = text.indexOf(":", Math.max(colon + 1, end));
      continue;
    }
    let candidate = text.slice(start, end);
    // Sentence punctuation after the address ("at fe80::1.").
    while (candidate.endsWith(".") || (candidate.endsWith(":") && !candidate.endsWith("::")))
      candidate = candidate.slice(0, -1);
    while (candidate.startsWith(":") && !candidate.startsWith("::")) {
      candidate = candidate.slice(1);
      start++;
    }
    const before = start > 0 ? text.charCodeAt(start - 1) : 32;
    const after = start + candidate.length < text.length ? text.charCodeAt(start + candidate.length) : 32;
    const isolated =
      !/[0-9A-Za-z_]/.test(String.fromCharCode(before)) && !/[0-9A-Za-z_]/.test(String.fromCharCode(after));
    if (
      isolated &&
      plausibleIpv6Run(candidate, 0, candidate.length) &&
      /[0-9a-f]/i.test(candidate) &&
      isIPv6(candidate)
    ) {
      out.push({
        type: "IP_ADDRESS",
        start,
        end: start + candidate.length,
        score: context.near(text, start, start + candidate.length) ? 0.95 : /[0-9]/.test(candidate) ? 0.85 : 0.4,
      });
    }
    colon = text.indexOf(":", Math.max(colon + 1, end));
  }
}

/**
 * A cheap shape test before node:net's validator: an IPv6 address has eight groups (seven colons),
 * six plus an IPv4 tail (six colons), or a "::".
 */
function plausibleIpv6Run(text: string, start: number, end: number): boolean {
  let colons = 0;
  for (let index = start; index < end; index++) {
    if (text.charCodeAt(index) !== 58) continue;
    if (index > start && text.charCodeAt(index - 1) === 58) return true;
    colons++;
  }
  return colons >= 6;
}
