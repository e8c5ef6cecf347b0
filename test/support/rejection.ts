/**
 * The error a promise rejects with, for asserting on its class and fields.
 * @throws {Error} when the promise resolves instead.
 */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected the call to fail");
}
