"""PyTorch CPU reference for bench/cnn-training/run.ts.

Trains the same architectures as the tfjs side (see models.ts) on synthetic MNIST-shaped data for
a fixed number of steps and prints one JSON line with the per-step wall times, so run.ts can
compare samples/s measured on the same machine in the same run.

Usage: python3 torch_cnn.py '{"model": "cnn", "batch": 64, "steps": 30, "warmup": 5,
                              "threads": 1, "seed": 1}'
"""

import json
import sys
import time

import torch
from torch import nn


def build(model: str) -> nn.Module:
    if model == "cnn":
        # conv 3x3x32 'same' -> relu -> maxpool 2 -> conv 3x3x64 'same' -> relu -> maxpool 2
        # -> dense 128 relu -> dense 10; identical to the tfjs-layers model in models.ts.
        return nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(7 * 7 * 64, 128),
            nn.ReLU(),
            nn.Linear(128, 10),
        )
    if model == "mlp":
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 256),
            nn.ReLU(),
            nn.Linear(256, 128),
            nn.ReLU(),
            nn.Linear(128, 10),
        )
    raise SystemExit(f"unknown model {model!r}")


def main() -> None:
    options = json.loads(sys.argv[1])
    model_name = options["model"]
    batch = int(options["batch"])
    steps = int(options["steps"])
    warmup = int(options["warmup"])
    torch.set_num_threads(int(options["threads"]))
    torch.manual_seed(int(options["seed"]))

    model = build(model_name)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    # A fixed pool of synthetic samples cycled through, as on the tfjs side: throughput does
    # not depend on the pixel values, and no data has to cross the process boundary.
    pool = 8 * batch
    images = torch.rand(pool, 1, 28, 28)
    labels = torch.randint(0, 10, (pool,))

    step_ms = []
    step_cpu_ms = []
    losses = []
    for step in range(warmup + steps):
        start = (step * batch) % pool
        xb = images[start : start + batch]
        yb = labels[start : start + batch]
        t0 = time.perf_counter()
        c0 = time.process_time()
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        value = float(loss.item())
        elapsed = (time.perf_counter() - t0) * 1000
        cpu = (time.process_time() - c0) * 1000
        if step >= warmup:
            step_ms.append(elapsed)
            step_cpu_ms.append(cpu)
            losses.append(value)

    print(
        json.dumps(
            {
                "engine": "pytorch",
                "version": torch.__version__,
                "threads": torch.get_num_threads(),
                "mkldnn": bool(torch.backends.mkldnn.is_available()),
                "model": model_name,
                "batch": batch,
                "stepMs": step_ms,
                # Process CPU time (all threads): robust against neighbours on a shared box.
                "stepCpuMs": step_cpu_ms,
                "firstLoss": losses[0],
                "lastLoss": losses[-1],
            }
        )
    )


if __name__ == "__main__":
    main()
