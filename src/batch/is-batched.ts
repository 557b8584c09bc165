/**
 * Whether a model runs through the Batch API, in a module of its own: the runner asks it of every
 * model at start-up, and loads the batch phase (its modules and node:readline, ~15–50 ms of CPU
 * before the first call) only for a model that does.
 */
import type { ModelSpec, ModelSpecOf } from "../config/model-spec.js";

/** Whether `model` runs through the Batch API. */
export function isBatched(model: ModelSpec): model is ModelSpecOf<"openai"> {
  return model.provider === "openai" && model.batch === true;
}
