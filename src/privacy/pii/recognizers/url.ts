import type { PiiCandidate, PiiRecognizer } from "../types.js";

/**
 * URLs with a scheme (http, https, ftp) or starting with "www.". The body is RFC 3986 characters
 * only, so a URL ends at the first space, CJK character or quote; trailing sentence punctuation and
 * an unbalanced closing bracket are given back to the sentence. One bounded character class: linear.
 */
const urlPattern = /(?:\b(?:https?|ftp):\/\/|\bwww\.)[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]{1,2048}/gi;
const trailing = /[.,;:!?'"*]+$/;

export function createUrlRecognizer(): PiiRecognizer {
  return {
    name: "url",
    types: ["URL"],
    find(text, out: PiiCandidate[]) {
      if (!/https?:|ftp:|www\./i.test(text)) return;
      for (const match of text.matchAll(urlPattern)) {
        let value = match[0].replace(trailing, "");
        // "(see https://x.org/a)": drop a closing bracket that has no opening one inside the URL.
        while (/[)\]]$/.test(value)) {
          const close = value.endsWith(")") ? ")" : "]";
          const open = close === ")" ? "(" : "[";
          if (value.split(open).length >= value.split(close).length) break;
          value = value.slice(0, -1).replace(trailing, "");
        }
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
