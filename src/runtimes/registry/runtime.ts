import { ModelportError } from "../../core/errors.js";
import type { OipInferRequest, OipInferResponse } from "../../core/oip-types.js";
import type { InvokeContext, ModelRuntime, PredictMetadata } from "../../core/runtime.js";
import type { ModelRegistry } from "../../training/registry/registry.js";
import { defaultLoadRuntime, type LoadRuntime, openServedVersion, type ServedVersion } from "./served-version.js";

/**
 * Serves `registry:NAME@ALIAS`. The alias is re-read every `refreshMs`; when it points at another
 * version, that version is loaded in the background, swapped in atomically (the next request uses
 * it) and the old one is closed once the requests already running on it finish. No restart, no
 * failed request during a roll-over. A canary is two targets with two aliases, i.e. two runtimes.
 */
export interface RegistryRuntimeOptions {
  registry: ModelRegistry;
  name: string;
  alias: string;
  loadRuntime?: LoadRuntime;
  /** How often the alias is checked (default 1000 ms; 0 disables the timer, `refresh()` still works). */
  refreshMs?: number;
  /** Failures of a background refresh (the old version keeps serving). Called once per failing version. */
  onError?: (error: unknown) => void;
}

export type RegistryRuntime = ModelRuntime &
  Required<Pick<ModelRuntime, "predict" | "predictMetadata">> & {
    /** Checks the alias now; true when it switched to another version. */
    refresh(): Promise<boolean>;
    /** The version new requests go to (undefined before the first load). */
    servingVersion(): number | undefined;
  };

interface Slot {
  served: ServedVersion;
  inFlight: number;
  retired: boolean;
  closed?: Promise<void>;
}

export function createRegistryRuntime(options: RegistryRuntimeOptions): RegistryRuntime {
  const { registry, name, alias } = options;
  const loadRuntime = options.loadRuntime ?? defaultLoadRuntime;
  const refreshMs = options.refreshMs ?? 1000;
  const label = `registry:${name}@${alias}`;
  let active: Slot | undefined;
  let loading: Promise<Slot> | undefined;
  let refreshing: Promise<boolean> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let failedVersion: number | undefined;
  const retiring = new Set<Slot>();

  async function openVersion(version: number): Promise<Slot> {
    const artifact = await registry.open(name, version);
    return { served: await openServedVersion(artifact, loadRuntime), inFlight: 0, retired: false };
  }

  function closeSlot(slot: Slot): Promise<void> {
    slot.closed ??= slot.served.close().finally(() => retiring.delete(slot));
    return slot.closed;
  }

  function retire(slot: Slot): void {
    slot.retired = true;
    retiring.add(slot);
    if (slot.inFlight === 0) void closeSlot(slot);
  }

  async function aliasVersion(): Promise<number> {
    const version = await registry.resolveAlias(name, alias);
    if (version === undefined)
      throw new ModelportError("MP_MODEL_NOT_READY", `${label}: the alias points at no version yet`);
    return version;
  }

  function startTimer(): void {
    if (refreshMs <= 0 || timer !== undefined || closed) return;
    timer = setInterval(() => {
      if (refreshing === undefined) refresh().catch(() => undefined);
    }, refreshMs);
    timer.unref();
  }

  function ensureLoaded(): Promise<Slot> {
    if (closed) return Promise.reject(new ModelportError("MP_SHUTTING_DOWN", `${label} is closed`));
    if (active) return Promise.resolve(active);
    loading ??= (async () => {
      const slot = await openVersion(await aliasVersion());
      if (closed) {
        await closeSlot(slot);
        throw new ModelportError("MP_SHUTTING_DOWN", `${label} is closed`);
      }
      active = slot;
      startTimer();
      return slot;
    })().finally(() => {
      loading = undefined;
    });
    return loading;
  }

  function refresh(): Promise<boolean> {
    refreshing ??= (async () => {
      if (active === undefined) {
        await ensureLoaded();
        return false;
      }
      const version = await registry.resolveAlias(name, alias);
      // An alias that vanished keeps the last version serving rather than failing every request.
      if (version === undefined || version === active.served.version) return false;
      let next: Slot;
      try {
        next = await openVersion(version);
      } catch (error) {
        if (failedVersion !== version) {
          failedVersion = version;
          options.onError?.(error);
        }
        throw error;
      }
      failedVersion = undefined;
      if (closed) {
        await closeSlot(next);
        return false;
      }
      const previous = active;
      active = next;
      retire(previous);
      return true;
    })().finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  }

  async function run<T>(call: (served: ServedVersion) => Promise<T>): Promise<T> {
    const slot = await ensureLoaded();
    slot.inFlight++;
    try {
      return await call(slot.served);
    } finally {
      slot.inFlight--;
      if (slot.retired && slot.inFlight === 0) void closeSlot(slot);
    }
  }

  return {
    type: "registry",
    kinds: ["predict"],

    async load() {
      await ensureLoaded();
    },

    isReady: () => active !== undefined && !closed,

    predict(request: OipInferRequest, context: InvokeContext): Promise<Omit<OipInferResponse, "model_name">> {
      return run((served) => served.predict(request, context));
    },

    async predictMetadata(): Promise<PredictMetadata> {
      return run(async (served) => served.metadata());
    },

    refresh,
    servingVersion: () => active?.served.version,

    async close() {
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await Promise.allSettled([loading, refreshing]);
      const current = active;
      active = undefined;
      if (current) retire(current);
      await Promise.allSettled(
        [...retiring].map((slot) => (slot.inFlight === 0 ? closeSlot(slot) : Promise.resolve())),
      );
    },
  };
}
