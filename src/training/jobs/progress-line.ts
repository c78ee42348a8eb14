import type { EpochProgress } from "../trainers/types.js";

const format = (value: number) => (Math.abs(value) >= 1000 ? value.toFixed(0) : value.toPrecision(4));

/** One line: `epoch 3/6 [######----] 45/110 loss 0.1234 val_loss 0.0800 val_accuracy 0.9800 12.3s`. */
export function formatProgressLine(progress: EpochProgress, barWidth = 20): string {
  const fraction = progress.batches === 0 ? 1 : Math.min(1, progress.batch / progress.batches);
  const filled = Math.round(fraction * barWidth);
  const parts = [
    `epoch ${progress.epoch}/${progress.epochs}`,
    `[${"#".repeat(filled)}${"-".repeat(barWidth - filled)}]`,
    `${progress.batch}/${progress.batches}`,
    `loss ${format(progress.loss)}`,
  ];
  if (progress.valLoss !== null) parts.push(`val_loss ${format(progress.valLoss)}`);
  for (const [name, value] of Object.entries(progress.metrics)) parts.push(`${name} ${format(value)}`);
  parts.push(`${(progress.elapsedMs / 1000).toFixed(1)}s`);
  return parts.join(" ");
}

export interface ProgressRenderer {
  update(progress: EpochProgress): void;
  /** Ends the live line (call before printing anything else). */
  done(): void;
}

/**
 * A single-line live progress bar (no dependency): on a TTY the line is redrawn in place and each
 * finished epoch is kept as its own line; elsewhere (CI logs, pipes) only epoch lines are printed.
 */
export function createProgressRenderer(
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number } = process.stderr,
): ProgressRenderer {
  const live = stream.isTTY === true;
  let drawn = false;
  const clip = (line: string) => {
    const columns = stream.columns ?? 120;
    return line.length >= columns ? line.slice(0, Math.max(0, columns - 1)) : line;
  };
  return {
    update(progress) {
      const line = formatProgressLine(progress);
      if (live) {
        stream.write(`\r\x1b[2K${clip(line)}${progress.phase === "epoch" ? "\n" : ""}`);
        drawn = progress.phase !== "epoch";
      } else if (progress.phase === "epoch") {
        stream.write(`${line}\n`);
      }
    },
    done() {
      if (live && drawn) stream.write("\n");
      drawn = false;
    },
  };
}
