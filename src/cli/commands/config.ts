import type { Command } from "commander";
import { configJsonSchema } from "../../config/json-schema.js";
import { resolveSettings } from "../../config/settings.js";
import { printJson } from "../output.js";

export function registerConfig(program: Command): void {
  const config = program.command("config").description("Inspect the configuration");
  config
    .command("schema")
    .description("Print the config file's JSON Schema")
    .action(() => printJson(configJsonSchema()));
  config
    .command("check")
    .description("Validate a config file and print the effective configuration")
    .option("--config <file>", "config file (default ./modelport.yaml when present)")
    .option("--json", "print the effective configuration as JSON")
    .action((flags: { config?: string; json?: boolean }) => {
      const settings = resolveSettings(flags, process.env);
      if (flags.json) printJson(settings.config);
      else process.stdout.write(`${settings.configPath ?? "(defaults)"}: ok\n`);
    });
}
