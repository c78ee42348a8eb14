// One Modelport server for the overhead benchmark, as `modelport serve` starts it (same settings,
// same composition root, compiled JavaScript), with one difference for `--variant off`: the
// internal `withoutCommerceStages` option of startServer (src/commerce/benchmark-bypass.ts), which
// no config or flag of the product reaches.
//
// Usage: node serve-variant.mjs --dist DIR --variant on|off --config FILE --port N --data-dir DIR
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    dist: { type: "string" },
    variant: { type: "string" },
    config: { type: "string" },
    port: { type: "string" },
    "data-dir": { type: "string" },
  },
});
if (!["on", "off", "nolog"].includes(values.variant ?? "")) throw new Error("--variant must be on, off or nolog");
const load = (path) => import(pathToFileURL(join(values.dist, path)).href);
const { resolveSettings } = await load("config/settings.js");
const { startServer } = await load("server/start-server.js");

const server = await startServer(
  resolveSettings({ config: values.config, port: values.port, dataDir: values["data-dir"] }, process.env),
  { withoutCommerceStages: values.variant === "off" },
);
const stop = () => server.shutdown("SIGTERM").then(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
process.stdout.write(`listening on ${server.url}\n`);
