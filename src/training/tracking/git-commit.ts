import { execFile } from "node:child_process";

/** `git rev-parse HEAD` in `cwd`, or null outside a repository (or without git). */
export function readGitCommit(cwd: string = process.cwd()): Promise<string | null> {
  return new Promise((resolve) => {
    execFile("git", ["rev-parse", "HEAD"], { cwd, timeout: 5_000 }, (error, stdout) => {
      const commit = stdout?.trim() ?? "";
      resolve(error === null && /^[0-9a-f]{40,64}$/.test(commit) ? commit : null);
    });
  });
}
