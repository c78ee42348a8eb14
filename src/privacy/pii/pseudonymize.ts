import type { PiiEntityType } from "./types.js";

/**
 * Consistent placeholders within one request or session: the same value of the same type always
 * becomes the same `<PERSON_1>`, so the model can still tell people apart, and the model's answer
 * can be re-identified before it reaches the caller. The session holds the only copy of the
 * mapping; keep it in memory for the request and drop it afterwards.
 */
export interface PseudonymSession {
  placeholderFor(type: PiiEntityType, value: string): string;
  originalFor(placeholder: string): string | undefined;
  /** Length of the longest placeholder handed out (what a stream may have to hold back). */
  readonly longestPlaceholder: number;
  readonly placeholders: readonly string[];
  toJSON(): { placeholder: string; type: PiiEntityType; value: string }[];
}

export function createPseudonymSession(): PseudonymSession {
  const byValue = new Map<string, string>();
  const byPlaceholder = new Map<string, { type: PiiEntityType; value: string }>();
  const counters = new Map<PiiEntityType, number>();
  const list: string[] = [];
  let longest = 0;
  // Addresses differ only in case ("Bob@X.com" = "bob@x.com"); other values are kept exactly.
  const normalise = (type: PiiEntityType, value: string) => (type === "EMAIL_ADDRESS" ? value.toLowerCase() : value);
  return {
    placeholderFor(type, value) {
      const key = `${type}\u0000${normalise(type, value)}`;
      const existing = byValue.get(key);
      if (existing) return existing;
      const next = (counters.get(type) ?? 0) + 1;
      counters.set(type, next);
      const placeholder = `<${type}_${next}>`;
      byValue.set(key, placeholder);
      byPlaceholder.set(placeholder, { type, value });
      list.push(placeholder);
      longest = Math.max(longest, placeholder.length);
      return placeholder;
    },
    originalFor: (placeholder) => byPlaceholder.get(placeholder)?.value,
    get longestPlaceholder() {
      return longest;
    },
    get placeholders() {
      return list;
    },
    toJSON: () =>
      list.map((placeholder) => ({
        placeholder,
        ...(byPlaceholder.get(placeholder) as { type: PiiEntityType; value: string }),
      })),
  };
}

const placeholderPattern = /<[A-Z][A-Z0-9_]{0,60}>/g;

/** Puts the original values back for every placeholder this session issued; others stay as they are. */
export function reidentify(text: string, session: PseudonymSession): string {
  if (session.placeholders.length === 0 || !text.includes("<")) return text;
  return text.replace(placeholderPattern, (placeholder) => session.originalFor(placeholder) ?? placeholder);
}

export interface StreamReidentifier {
  /** Text safe to emit now: complete placeholders restored, a possible partial one held back. */
  push(chunk: string): string;
  /** Everything still held back (an unfinished placeholder is emitted as it is). */
  flush(): string;
}

/**
 * Re-identifies a streamed answer whose placeholders may be split across chunks ("<PER" + "SON_1>").
 * Only a tail that is still a prefix of one of the session's placeholders is held back, so the
 * stream is delayed by at most `longestPlaceholder - 1` characters and never emits half a placeholder.
 */
export function createStreamReidentifier(session: PseudonymSession): StreamReidentifier {
  let pending = "";
  const couldBecomePlaceholder = (tail: string) =>
    session.placeholders.some((placeholder) => placeholder.length > tail.length && placeholder.startsWith(tail));
  return {
    push(chunk) {
      const buffer = pending + chunk;
      const window = Math.max(0, session.longestPlaceholder - 1);
      let hold = buffer.length;
      for (let index = Math.max(0, buffer.length - window); index < buffer.length; index++) {
        if (buffer.charCodeAt(index) === 60 && couldBecomePlaceholder(buffer.slice(index))) {
          hold = index;
          break;
        }
      }
      pending = buffer.slice(hold);
      return reidentify(buffer.slice(0, hold), session);
    },
    flush() {
      const rest = reidentify(pending, session);
      pending = "";
      return rest;
    },
  };
}
