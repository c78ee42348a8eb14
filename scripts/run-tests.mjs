#!/usr/bin/env node
// Runs every unit test (src/**/*.test.ts) and integration test (test/**/*.test.ts) with node:test
// through tsx. Node 20's `--test` takes no globs, so the files are listed here.
// Usage: node scripts/run-tests.mjs [path-substring ...]   (no arguments: everything)
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;

function collect(directory) {
  const files = [];
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const path = join(directory, entry.name);
    if (entry.isDirectory()) files.push(...collect(path));
    else if (entry.name.endsWith(".test.ts")) files.push(relative(root, path));
  }
  return files;
}

const filters = process.argv.slice(2);
const files = [...collect(join(root, "src")), ...collect(join(root, "test"))]
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(" ")}`);
  process.exit(1);
}

const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=2", "--test-timeout=300000", ...files],
  { cwd: root, stdio: "inherit", env: { ...process.env, NODE_ENV: "test" } },
);
process.exit(result.status ?? 1);
