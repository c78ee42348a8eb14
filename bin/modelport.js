#!/usr/bin/env node
// Runs the TypeScript sources through tsx, so the checkout needs no build step.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
const code = await main(process.argv);
// `serve` keeps running until a signal; every other command ends here.
if (!process.argv.includes("serve")) process.exit(code);
else if (code !== 0) process.exit(code);
