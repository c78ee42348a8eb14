import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";

/**
 * The benchmark's models, layer for layer the same as torch_cnn.py's (PyTorch's default
 * initialisers differ, which does not change the work per step).
 */

export type BenchModel = "cnn" | "mlp";

export function buildModel(kind: BenchModel, seed: number): tfl.LayersModel {
  const model = tfl.sequential();
  if (kind === "cnn") {
    model.add(
      tfl.layers.conv2d({
        inputShape: [28, 28, 1],
        filters: 32,
        kernelSize: 3,
        padding: "same",
        activation: "relu",
        kernelInitializer: tfl.initializers.glorotUniform({ seed }),
      }),
    );
    model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
    model.add(
      tfl.layers.conv2d({
        filters: 64,
        kernelSize: 3,
        padding: "same",
        activation: "relu",
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
      }),
    );
    model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
    model.add(tfl.layers.flatten());
  } else {
    model.add(tfl.layers.flatten({ inputShape: [28, 28, 1] }));
    model.add(
      tfl.layers.dense({
        units: 256,
        activation: "relu",
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
      }),
    );
  }
  model.add(
    tfl.layers.dense({
      units: 128,
      activation: "relu",
      kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 2 }),
    }),
  );
  model.add(
    tfl.layers.dense({
      units: 10,
      activation: "softmax",
      kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 3 }),
    }),
  );
  model.compile({ optimizer: tf.train.adam(1e-3), loss: "categoricalCrossentropy" });
  return model;
}

/** Synthetic MNIST-shaped data: a fixed pool of `8 × batch` samples cycled through. */
export function syntheticPool(batch: number, seed: number): { images: tf.Tensor4D; labels: tf.Tensor2D } {
  const size = 8 * batch;
  return tf.tidy(() => ({
    images: tf.randomUniform([size, 28, 28, 1], 0, 1, "float32", seed) as tf.Tensor4D,
    labels: tf.cast(
      tf.oneHot(tf.randomUniform([size], 0, 10, "int32", seed + 1) as tf.Tensor1D, 10),
      "float32",
    ) as tf.Tensor2D,
  }));
}
