import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPiiEngine } from "./engine.js";
import { anonymize } from "./operators.js";
import { createPseudonymSession, createStreamReidentifier, reidentify } from "./pseudonymize.js";

const engine = createPiiEngine();

describe("pseudonymization", () => {
  it("gives the same value the same placeholder within a session, and re-identifies", () => {
    const session = createPseudonymSession();
    const text = "Sarah Johnson wrote to bob@example.com; Sarah Johnson cc'd Bob@Example.com and 张伟先生.";
    const masked = anonymize(text, engine.detect(text), "pseudonymize", { session });
    assert.equal(
      masked,
      "<PERSON_1> wrote to <EMAIL_ADDRESS_1>; <PERSON_1> cc'd <EMAIL_ADDRESS_1> and <PERSON_2>先生.",
    );
    const answer = "Dear <PERSON_1>, we replied to <EMAIL_ADDRESS_1>. <PERSON_9> and <OTHER> stay.";
    assert.equal(
      reidentify(answer, session),
      "Dear Sarah Johnson, we replied to bob@example.com. <PERSON_9> and <OTHER> stay.",
    );
    assert.throws(() => anonymize(text, engine.detect(text), "pseudonymize"), /needs a session/);
  });

  it("re-identifies a stream with a placeholder split at every possible point", () => {
    const session = createPseudonymSession();
    session.placeholderFor("PERSON", "Sarah Johnson");
    session.placeholderFor("EMAIL_ADDRESS", "bob@example.com");
    const output = "Hi <PERSON_1>, mail <EMAIL_ADDRESS_1> now <b>ok</b> <PERSON_";
    const expected = reidentify(output, session);
    for (let cut = 0; cut <= output.length; cut++) {
      for (const cut2 of [cut, Math.min(output.length, cut + 3), Math.min(output.length, cut + 9)]) {
        const stream = createStreamReidentifier(session);
        const pieces = [
          stream.push(output.slice(0, cut)),
          stream.push(output.slice(cut, cut2)),
          stream.push(output.slice(cut2)),
          stream.flush(),
        ];
        assert.equal(pieces.join(""), expected, `cut at ${cut}/${cut2}`);
        for (const piece of pieces.slice(0, 3)) {
          assert.doesNotMatch(piece, /<(?:PERSON|EMAIL_ADDRESS)_1>/, "no placeholder leaks out");
          assert.doesNotMatch(piece, /<PERSON_?$|<EMAIL_ADD/, "no partial placeholder emitted mid-stream");
        }
      }
    }
  });

  it("holds back at most the longest placeholder minus one character, and nothing without a '<'", () => {
    const session = createPseudonymSession();
    const placeholder = session.placeholderFor("EMAIL_ADDRESS", "bob@example.com");
    const stream = createStreamReidentifier(session);
    assert.equal(stream.push("plain text"), "plain text", "nothing held back");
    assert.equal(stream.push(`x ${placeholder.slice(0, -1)}`), "x ", "the partial placeholder is held");
    assert.equal(stream.push(">!"), "bob@example.com!");
    assert.equal(stream.push("a <b and <c"), "a <b and <c", "tails that cannot become a placeholder flow through");
    assert.equal(stream.push("<EMAIL"), "");
    assert.equal(stream.flush(), "<EMAIL", "flush emits an unfinished tail as it is");
    const empty = createStreamReidentifier(createPseudonymSession());
    assert.equal(empty.push("<PERSON_"), "<PERSON_", "an empty session holds nothing");
  });
});
