import type { Command } from "commander";
import type { AuditRecorder } from "../../privacy/audit/audit-types.js";

/**
 * `modelport pii detect|redact|decrypt` (CONTRACT.md). The engine is imported inside the actions so
 * `modelport --help` does not load the name lists and phone metadata.
 *
 * Keys: hash and encrypt need a 32-byte key in MODELPORT_PII_KEY (64 hex characters); the same key
 * decrypts. There is deliberately no fallback key: a token made with a guessed default would look
 * protected and not be.
 */
export interface PiiCommandIo {
  readStdin(): Promise<string>;
  write(text: string): void;
  env: NodeJS.ProcessEnv;
}

const processIo = (): PiiCommandIo => ({
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    return Buffer.concat(chunks).toString("utf8");
  },
  write: (text) => {
    process.stdout.write(text);
  },
  env: process.env,
});

export interface PiiDetectFlags {
  json?: boolean;
  threshold?: string;
  types?: string;
}

export interface PiiRedactFlags {
  operator?: string;
  threshold?: string;
  types?: string;
  maskChar?: string;
}

export function registerPii(program: Command): void {
  const pii = program.command("pii").description("Find and remove personal data and secrets in text");
  pii
    .command("detect")
    .description("Read UTF-8 text on stdin and list the PII found (start/end are UTF-16 indices)")
    .option("--json", "print a JSON array of {type,start,end,score,text}")
    .option("--threshold <score>", "minimum score from 0 to 1 (default 0.5)")
    .option("--types <list>", "comma-separated entity types to look for (default: all)")
    .action((flags: PiiDetectFlags) => runPiiDetect(flags, processIo()));
  pii
    .command("redact")
    .description("Copy stdin to stdout with the PII replaced")
    .option("--operator <name>", "replace | redact | mask | hash | encrypt | pseudonymize", "replace")
    .option("--threshold <score>", "minimum score from 0 to 1 (default 0.5)")
    .option("--types <list>", "comma-separated entity types to act on (default: all)")
    .option("--mask-char <char>", "the mask operator's character", "*")
    .action((flags: PiiRedactFlags) => runPiiRedact(flags, processIo()));
  pii
    .command("decrypt")
    .description(
      "Copy stdin to stdout with <TYPE:enc:…> tokens decrypted (key from MODELPORT_PII_KEY); recorded on the audit trail",
    )
    .option("--config <file>", "config file")
    .option("--data-dir <dir>", "data directory (where the audit trail is)")
    .action(async (flags: { config?: string; dataDir?: string }) => {
      const { withStorage } = await import("../storage-context.js");
      const { createAuditLog } = await import("../../privacy/audit/audit-log.js");
      await withStorage(flags, ({ handle, masterKey, settings }) =>
        runPiiDecrypt(processIo(), createAuditLog({ database: handle, masterKey, dataDir: settings.dataDir })),
      );
    });
}

async function detectOptions(flags: { threshold?: string; types?: string }) {
  const { UsageError } = await import("../output.js");
  const { isPiiEntityType } = await import("../../privacy/pii/types.js");
  let threshold: number | undefined;
  if (flags.threshold !== undefined) {
    threshold = Number(flags.threshold);
    if (!Number.isFinite(threshold) || threshold < 0 || threshold > 1) {
      throw new UsageError(`--threshold must be a number from 0 to 1, got '${flags.threshold}'`);
    }
  }
  let types: import("../../privacy/pii/types.js").PiiEntityType[] | undefined;
  if (flags.types !== undefined) {
    const names = flags.types
      .split(",")
      .map((name) => name.trim().toUpperCase())
      .filter(Boolean);
    const unknown = names.filter((name) => !isPiiEntityType(name));
    if (unknown.length > 0) throw new UsageError(`unknown PII type(s): ${unknown.join(", ")}`);
    types = names.filter(isPiiEntityType);
  }
  return { threshold, types };
}

export async function runPiiDetect(flags: PiiDetectFlags, io: PiiCommandIo): Promise<void> {
  const { defaultPiiEngine } = await import("../../privacy/pii/engine.js");
  const options = await detectOptions(flags);
  const findings = defaultPiiEngine().detect(await io.readStdin(), options);
  if (flags.json) {
    io.write(
      `${JSON.stringify(findings.map(({ type, start, end, score, text }) => ({ type, start, end, score, text })))}\n`,
    );
    return;
  }
  if (findings.length === 0) {
    io.write("no PII found\n");
    return;
  }
  const rows = findings.map((finding) => ({
    type: finding.type,
    start: String(finding.start),
    end: String(finding.end),
    score: finding.score.toFixed(2),
    text: JSON.stringify(finding.text).slice(1, -1),
  }));
  const columns = ["type", "start", "end", "score", "text"] as const;
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => row[column].length)));
  const line = (values: string[]) =>
    `${values
      .map((value, index) => value.padEnd(widths[index] ?? 0))
      .join("  ")
      .trimEnd()}\n`;
  io.write(line([...columns]));
  for (const row of rows) io.write(line(columns.map((column) => row[column])));
}

export async function runPiiRedact(flags: PiiRedactFlags, io: PiiCommandIo): Promise<void> {
  const { UsageError } = await import("../output.js");
  const { defaultPiiEngine } = await import("../../privacy/pii/engine.js");
  const { anonymize, piiOperatorNames } = await import("../../privacy/pii/operators.js");
  const { createPseudonymSession } = await import("../../privacy/pii/pseudonymize.js");
  const operator = flags.operator ?? "replace";
  if (!(piiOperatorNames as readonly string[]).includes(operator)) {
    throw new UsageError(`--operator must be one of ${piiOperatorNames.join(", ")}; got '${operator}'`);
  }
  const name = operator as (typeof piiOperatorNames)[number];
  const key = name === "hash" || name === "encrypt" ? await requireKey(io.env, name) : undefined;
  const options = await detectOptions(flags);
  const text = await io.readStdin();
  const findings = defaultPiiEngine().detect(text, options);
  io.write(
    anonymize(text, findings, name, {
      key,
      maskChar: flags.maskChar,
      session: name === "pseudonymize" ? createPseudonymSession() : undefined,
    }),
  );
}

/**
 * Decrypts, then records a `data-decrypted` entry (tokens per type and which key; the input and the
 * output only as HMACs), then prints. The entry comes first: if the trail cannot be written, no
 * plaintext is printed.
 */
export async function runPiiDecrypt(io: PiiCommandIo, audit: AuditRecorder): Promise<void> {
  const { decryptPiiTokens, piiKeyFingerprint } = await import("../../privacy/pii/pii-crypto.js");
  const key = await requireKey(io.env, "decrypt");
  const input = await io.readStdin();
  const { text, types } = decryptPiiTokens(input, key);
  const tokens = Object.values(types).reduce((sum, count) => sum + count, 0);
  if (tokens > 0)
    await audit.record({
      action: "data-decrypted",
      actor: "cli",
      target: "pii-tokens",
      details: { command: "pii decrypt", tokens, types, key: piiKeyFingerprint(key) },
      sensitive: { input, output: text },
    });
  io.write(text);
}

async function requireKey(env: NodeJS.ProcessEnv, operator: string): Promise<Buffer> {
  const { ModelportError } = await import("../../core/errors.js");
  const { parsePiiKey } = await import("../../privacy/pii/pii-crypto.js");
  const value = env.MODELPORT_PII_KEY;
  if (!value) {
    throw new ModelportError(
      "MP_INVALID_REQUEST",
      `the ${operator} operator needs a key: set MODELPORT_PII_KEY to 64 hexadecimal characters (e.g. from \`openssl rand -hex 32\`)`,
    );
  }
  return parsePiiKey(value, "MODELPORT_PII_KEY");
}
