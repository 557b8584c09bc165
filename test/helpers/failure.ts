import { expect } from "vitest";
import { ModelCallError } from "../../src/errors.js";

/** The rejection of `p` as a ModelCallError (fails the test if it resolves or throws anything else). */
export async function failure(p: Promise<unknown>): Promise<ModelCallError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ModelCallError);
  return err as ModelCallError;
}
