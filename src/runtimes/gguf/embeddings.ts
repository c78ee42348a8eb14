import type { Token } from "node-llama-cpp";
import { ModelportError } from "../../core/errors.js";
import type { EmbeddingsRequest, EmbeddingsResponse } from "../../core/openai-types.js";
import { throwIfAborted } from "./abort-error.js";
import type { LoadedModel } from "./model-host.js";

type EmbeddingInput = string | Token[];

const invalid = (message: string, param: string) => new ModelportError("MP_INVALID_REQUEST", message, { param });

/**
 * Validates an OpenAI embeddings request and normalises its `input` to a list of strings or
 * token arrays (OpenAI accepts a string, strings, one token array, or token arrays). Token ids
 * are checked against the vocabulary: an out-of-range id would read past llama.cpp's tables.
 */
export function readEmbeddingInputs(request: EmbeddingsRequest, vocabularySize: number | undefined): EmbeddingInput[] {
  const { input } = request;
  if (request.encoding_format != null && request.encoding_format !== "float" && request.encoding_format !== "base64")
    throw invalid('encoding_format must be "float" or "base64"', "encoding_format");
  let items: (string | number[])[];
  if (typeof input === "string") items = [input];
  else if (Array.isArray(input) && input.length > 0 && input.every((item) => typeof item === "number"))
    items = [input as number[]];
  else if (Array.isArray(input)) items = input as (string | number[])[];
  else throw invalid("input must be a string, an array of strings, or token arrays", "input");
  if (items.length === 0) throw invalid("input must not be empty", "input");

  return items.map((item, index) => {
    const param = `input.${index}`;
    if (typeof item === "string") {
      if (item === "") throw invalid("input strings must not be empty", param);
      return item;
    }
    if (!Array.isArray(item) || item.length === 0)
      throw invalid("each input must be a non-empty string or token array", param);
    if (vocabularySize === undefined)
      throw new ModelportError(
        "MP_UNSUPPORTED",
        "this model's vocabulary size is unknown, so token input is not accepted",
        {
          param,
        },
      );
    for (const token of item) {
      if (!Number.isInteger(token) || token < 0 || token >= vocabularySize)
        throw invalid(`token ids must be integers in [0, ${vocabularySize})`, param);
    }
    return item as Token[];
  });
}

/**
 * Embeds each input with the model's embedding context (node-llama-cpp serialises evaluations on
 * it). llama.cpp pools per the model's `<arch>.pooling_type`; a `llama` model declares none, and
 * then node-llama-cpp returns the last token's hidden state, which suits decoder models (they
 * summarise the sequence at its end). Vectors are L2-normalised, like OpenAI's and llama.cpp
 * server's, so a dot product is a cosine similarity.
 */
export async function embedInputs(
  loaded: LoadedModel,
  request: EmbeddingsRequest,
  inputs: EmbeddingInput[],
  signal: AbortSignal,
): Promise<EmbeddingsResponse> {
  const dimensions = loaded.model.embeddingVectorSize;
  if (request.dimensions != null && request.dimensions !== dimensions)
    throw new ModelportError("MP_UNSUPPORTED", `this model's embeddings have ${dimensions} dimensions`, {
      param: "dimensions",
    });
  const context = await loaded.embeddingContext();
  // Check every input's length first so an oversized one fails the request before any work.
  const lengths = inputs.map((input, index) => {
    const length = context.calculateInputLength(input);
    if (length >= loaded.contextSize)
      throw invalid(
        `input ${index} takes ${length} tokens; this model embeds at most ${loaded.contextSize - 1}`,
        `input.${index}`,
      );
    return length;
  });
  const data: EmbeddingsResponse["data"] = [];
  for (const [index, input] of inputs.entries()) {
    throwIfAborted(signal, "embeddings request");
    const { vector } = await context.getEmbeddingFor(input);
    const normalised = normalise(vector);
    data.push({
      object: "embedding",
      index,
      embedding: request.encoding_format === "base64" ? toBase64(normalised) : normalised,
    });
  }
  const promptTokens = lengths.reduce((sum, length) => sum + length, 0);
  return {
    object: "list",
    data,
    model: request.model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

function normalise(vector: readonly number[]): number[] {
  const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
  return norm > 0 ? vector.map((value) => value / norm) : [...vector];
}

/** OpenAI's base64 format: the float32 little-endian bytes of the vector. */
function toBase64(vector: number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (const [index, value] of vector.entries()) bytes.writeFloatLE(value, index * 4);
  return bytes.toString("base64");
}
