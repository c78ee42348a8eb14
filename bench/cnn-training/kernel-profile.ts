import { getKernelsForBackend, type KernelConfig, registerKernel, unregisterKernel } from "@tensorflow/tfjs-core";

/**
 * Per-kernel process CPU time for one wasm training step. tf.profile() reports wall time, which
 * on a shared 2-core box mostly measures the neighbours; process.cpuUsage() counts only this
 * process. Kernels called from inside other kernels (the composite training kernels) are
 * charged to the outer kernel.
 */

export interface KernelCost {
  kernel: string;
  calls: number;
  cpuMs: number;
}

function cpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

export async function profileKernels(
  backendName: string,
  work: () => Promise<void>,
): Promise<{ kernels: KernelCost[]; totalCpuMs: number }> {
  const originals = getKernelsForBackend(backendName);
  const costs = new Map<string, KernelCost>();
  let depth = 0;
  const wrap = (config: KernelConfig): KernelConfig => ({
    ...config,
    kernelFunc: (args) => {
      if (depth > 0) return config.kernelFunc(args);
      depth++;
      const start = cpuMicros();
      try {
        return config.kernelFunc(args);
      } finally {
        depth--;
        const cost = costs.get(config.kernelName) ?? { kernel: config.kernelName, calls: 0, cpuMs: 0 };
        cost.calls++;
        cost.cpuMs += (cpuMicros() - start) / 1000;
        costs.set(config.kernelName, cost);
      }
    },
  });
  const swap = (configs: readonly KernelConfig[], transform: (config: KernelConfig) => KernelConfig) => {
    for (const config of configs) {
      unregisterKernel(config.kernelName, backendName);
      registerKernel(transform(config));
    }
  };
  swap(originals, wrap);
  const start = cpuMicros();
  try {
    await work();
  } finally {
    swap(originals, (config) => config);
  }
  const totalCpuMs = (cpuMicros() - start) / 1000;
  return { kernels: [...costs.values()].sort((a, b) => b.cpuMs - a.cpuMs), totalCpuMs };
}
