import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { configError, defaultConfig, loadConfigFile } from "./load.js";
import type { ModelportConfig } from "./schema.js";

/** Flags shared by `serve` and every command that opens storage. */
export interface StorageFlags {
  config?: string;
  dataDir?: string;
}

export interface ServeFlags extends StorageFlags {
  host?: string;
  port?: string | number;
}

/** Everything the process reads from its environment, resolved once (the only reader of process.env). */
export interface Settings {
  configPath: string | undefined;
  config: Readonly<ModelportConfig>;
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  adminToken: string | undefined;
  masterKey: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
}

export const defaultConfigFile = "modelport.yaml";

function parsePort(value: string | number, source: string): number {
  const port = typeof value === "number" ? value : Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw configError(`${source} must be a port number between 0 and 65535, got '${value}'`);
  return port;
}

/**
 * Precedence: command-line flag > environment variable > config file > default.
 * `--config` defaults to ./modelport.yaml when that file exists.
 */
export function resolveSettings(
  flags: ServeFlags,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string = process.cwd(),
): Settings {
  const explicit = flags.config;
  const implicit = resolve(cwd, defaultConfigFile);
  const configPath = explicit ? resolve(cwd, explicit) : existsSync(implicit) ? implicit : undefined;
  if (explicit && !existsSync(configPath as string)) throw configError(`config file not found: ${configPath}`);
  const config = configPath ? loadConfigFile(configPath, env) : defaultConfig();

  let port = 8080;
  if (config.server.port !== undefined) port = config.server.port;
  if (env.MODELPORT_PORT) port = parsePort(env.MODELPORT_PORT, "MODELPORT_PORT");
  if (flags.port !== undefined) port = parsePort(flags.port, "--port");

  const databaseUrl = env.MODELPORT_DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl))
    throw configError("MODELPORT_DATABASE_URL must be a postgres:// or postgresql:// URL");

  return {
    configPath,
    config,
    host: flags.host ?? config.server.host ?? "127.0.0.1",
    port,
    dataDir: resolve(cwd, flags.dataDir ?? env.MODELPORT_DATA_DIR ?? ".modelport"),
    databaseUrl,
    redisUrl: env.MODELPORT_REDIS_URL || undefined,
    adminToken: env.MODELPORT_ADMIN_TOKEN || undefined,
    masterKey: env.MODELPORT_MASTER_KEY || undefined,
    env,
  };
}
