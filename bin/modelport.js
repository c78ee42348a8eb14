#!/usr/bin/env node
// The `modelport` command. `--compiled` (used by `npm start`) runs dist/ from scripts/build.mjs;
// otherwise the TypeScript sources run through tsx, so a checkout needs no build step.
const compiled = process.argv[2] === "--compiled";
if (compiled) process.argv.splice(2, 1);
let main;
if (compiled) {
  ({ main } = await import("../dist/cli/main.js"));
} else {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("../src/cli/main.ts"));
}
const code = await main(process.argv);
// `serve` keeps running until a signal; every other command ends here.
if (!process.argv.includes("serve")) process.exit(code);
else if (code !== 0) process.exit(code);
