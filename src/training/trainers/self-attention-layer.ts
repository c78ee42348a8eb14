import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";

/**
 * A single-head self-attention block for the small Transformer text classifier: adds a learned
 * position embedding, then `x + softmax(QKᵀ/√d)·V·Wo`. tfjs-layers 4.22 has no attention layer,
 * so this is a custom layer; it is registered for serialization, so a saved model.json loads
 * again once this module has been imported.
 */
export interface SelfAttentionArgs {
  sequenceLength: number;
  seed?: number;
  name?: string;
}

type LayerArgs = ConstructorParameters<typeof tfl.layers.Layer>[0];

export class SelfAttention extends tfl.layers.Layer {
  static className = "ModelportSelfAttention";
  private readonly sequenceLength: number;
  private readonly seed: number | undefined;
  private positions!: tfl.LayerVariable;
  private query!: tfl.LayerVariable;
  private key!: tfl.LayerVariable;
  private value!: tfl.LayerVariable;
  private projection!: tfl.LayerVariable;

  constructor(args: SelfAttentionArgs & LayerArgs) {
    super(args);
    this.sequenceLength = args.sequenceLength;
    this.seed = args.seed;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const width = shape[shape.length - 1] as number;
    const seed = this.seed;
    const init = (offset: number) => tfl.initializers.glorotUniform(seed === undefined ? {} : { seed: seed + offset });
    this.positions = this.addWeight(
      "positions",
      [this.sequenceLength, width],
      "float32",
      tfl.initializers.randomUniform({ minval: -0.05, maxval: 0.05, ...(seed === undefined ? {} : { seed }) }),
    );
    this.query = this.addWeight("query", [width, width], "float32", init(1));
    this.key = this.addWeight("key", [width, width], "float32", init(2));
    this.value = this.addWeight("value", [width, width], "float32", init(3));
    this.projection = this.addWeight("output", [width, width], "float32", init(4));
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x0 = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      const [batch, length, width] = x0.shape;
      const x = tf.add(x0, this.positions.read()) as tf.Tensor3D;
      const flat = tf.reshape(x, [batch * length, width]);
      const project = (weight: tfl.LayerVariable) =>
        tf.reshape(tf.matMul(flat, weight.read() as tf.Tensor2D), [batch, length, width]);
      const q = project(this.query);
      const k = project(this.key);
      const v = project(this.value);
      const scores = tf.div(tf.matMul(q, k, false, true), Math.sqrt(width));
      const attended = tf.matMul(tf.softmax(scores), v);
      const mixed = tf.reshape(
        tf.matMul(tf.reshape(attended, [batch * length, width]), this.projection.read() as tf.Tensor2D),
        [batch, length, width],
      );
      return tf.add(x, mixed);
    });
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      sequenceLength: this.sequenceLength,
      ...(this.seed === undefined ? {} : { seed: this.seed }),
    };
  }
}

tf.serialization.registerClass(SelfAttention);
