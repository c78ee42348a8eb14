import type { PiiCandidate, PiiRecognizer } from "../types.js";

/**
 * URLs with a scheme (http, https, ftp) or starting with "www.". The body is RFC 3986 characters
 * only, so a URL ends at the first space, CJK character or quote; trailing sentence punctuation and
 * an unbalanced closing bracket are given back to the sentence. One bounded character class: linear.
 */
const urlPattern = /(?:\b(?:https?|ftp):\/\/|\bwww\.)[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]{1,2048}/gi;

export function createUrlRecognizer(): PiiRecognizer {
  return {
    name: "url",
    types: ["URL"],
    find(text, out: PiiCandidate[]) {
      if (!/https?:|ftp:|www\./i.test(text)) return;
      for (const match of text.matchAll(urlPattern)) {
        const value = trimUrl(match[0]);
        if (!plausibleHost(value)) continue;
        const start = match.index ?? 0;
        out.push({
          type: "URL",
          start,
          end: start + value.length,
          score: value.toLowerCase().startsWith("www.") ? 0.8 : 0.9,
        });
      }
    },
  };
}

/** The authority must look like a host name with a dot, an IP literal, or localhost. */
function plausibleHost(url: string): boolean {
  const afterScheme = url.replace(/^(?:https?|ftp):\/\//i, "");
  const authority = afterScheme.split(/[/?#]/, 1)[0] ?? "";
  const host = authority.slice(authority.lastIndexOf("@") + 1).replace(/:[0-9]{1,5}$/, "");
  if (host.startsWith("[") || host.toLowerCase() === "localhost") return host.length > 2;
  const labels = host.split(".");
  return labels.length >= 2 && labels.every((label) => label.length > 0) && /[A-Za-z0-9]/.test(labels.at(-1) ?? "");
}

/**
 * Gives trailing sentence punctuation back to the sentence, and a closing bracket that has no
 * opening one inside the URL ("(see https://x.org/a)"). One backwards pass: linear.
 */
function trimUrl(raw: string): string {
  let opens = 0;
  let closes = 0;
  for (let index = 0; index < raw.length; index++) {
    const ch = raw[index];
    if (ch === "(" || ch === "[") opens++;
    else if (ch === ")" || ch === "]") closes++;
  }
  let end = raw.length;
  while (end > 0) {
    const ch = raw[end - 1] ?? "";
    if (".,;:!?'\"*".includes(ch)) end--;
    else if ((ch === ")" || ch === "]") && closes > opens) {
      closes--;
      end--;
    } else break;
  }
  return raw.slice(0, end);
}
