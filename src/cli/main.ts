import { Command, CommanderError } from "commander";
import { modelportVersion } from "../server/version.js";
import { registerAudit } from "./commands/audit.js";
import { registerBilling } from "./commands/billing.js";
import { registerConfig } from "./commands/config.js";
import { registerDataKeys } from "./commands/data-keys.js";
import { registerDatasets } from "./commands/datasets.js";
import { registerDrift } from "./commands/drift.js";
import { registerEval } from "./commands/eval.js";
import { registerKeys } from "./commands/keys.js";
import { registerModels } from "./commands/models.js";
import { registerPii } from "./commands/pii.js";
import { registerPlans } from "./commands/plans.js";
import { registerQuickstart } from "./commands/quickstart.js";
import { registerRuns } from "./commands/runs.js";
import { registerServe } from "./commands/serve.js";
import { registerTenants } from "./commands/tenants.js";
import { registerTrain } from "./commands/train.js";
import { registerWorker } from "./commands/worker.js";
import { reportError } from "./output.js";

/** The `modelport` command line. Commands are thin: parse, call a module, print. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command("modelport")
    .description("Modelport: build, serve, sell, protect and monitor AI models")
    .version(modelportVersion)
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  registerServe(program);
  registerTenants(program);
  registerKeys(program);
  registerConfig(program);
  registerAudit(program);
  registerPii(program);
  registerDrift(program);
  registerModels(program);
  registerBilling(program);
  registerPlans(program);
  registerDatasets(program);
  registerDataKeys(program);
  registerTrain(program);
  registerWorker(program);
  registerEval(program);
  registerRuns(program);
  registerQuickstart(program);
  for (const command of program.commands) {
    command.exitOverride();
    for (const sub of command.commands) sub.exitOverride();
  }
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0; // --help, --version
      return 2; // commander already printed the usage error
    }
    return reportError(error);
  }
}
