/**
 * The Weave child's bulk HTTP client (src/tracking/weave-http.ts) against real local servers:
 * the SDK's retry rules (429/5xx and network errors retried, other statuses not), the answer it
 * rejects with, and the headers it sends.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { TraceHttpError, TracePoster } from "../src/tracking/weave-http.js";
import { closedPortUrl } from "./helpers/fake-trace-server.js";

let server: Server | null = null;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = null;
});

/** A server answering the given statuses in turn (the last one from then on), recording requests. */
async function serve(statuses: number[]) {
  const seen: { path: string; body: string; headers: Record<string, unknown> }[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen.push({ path: req.url ?? "", body: Buffer.concat(chunks).toString("utf8"), headers: req.headers });
      res.writeHead(statuses[Math.min(seen.length, statuses.length) - 1]!, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe("TracePoster", () => {
  it("retries 429 and 5xx answers, then succeeds, sending the body and the given headers", async () => {
    const { url, seen } = await serve([503, 429, 200]);
    const retries: (number | undefined)[] = [];
    const poster = new TracePoster({
      baseUrl: url,
      headers: { Authorization: "Basic abc", "User-Agent": "test" },
      onRetry: (status) => retries.push(status),
      retryDelaysMs: [1, 1, 1],
    });
    await poster.post("call/upsert_batch", Buffer.from('{"batch":["é"]}'));
    expect(retries).toEqual([503, 429]);
    expect(seen).toHaveLength(3);
    for (const r of seen) {
      expect(r.path).toBe("/call/upsert_batch");
      expect(r.body).toBe('{"batch":["é"]}');
      expect(r.headers).toMatchObject({
        authorization: "Basic abc",
        "user-agent": "test",
        "content-type": "application/json",
      });
    }
  });

  it("rejects at once with the status of a 4xx answer, and with the last answer once retries run out", async () => {
    const { url, seen } = await serve([400]);
    const poster = new TracePoster({ baseUrl: `${url}/`, headers: {}, retryDelaysMs: [1, 1] });
    await expect(poster.post("/feedback/batch/create", "{}")).rejects.toMatchObject({ status: 400 });
    expect(seen).toHaveLength(1);

    await new Promise<void>((resolve) => server!.close(() => resolve()));
    const busy = await serve([500]);
    const retrying = new TracePoster({ baseUrl: busy.url, headers: {}, retryDelaysMs: [1, 1] });
    const err: unknown = await retrying.post("call/upsert_batch", "{}").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TraceHttpError);
    expect(err).toMatchObject({ status: 500 });
    expect(busy.seen).toHaveLength(3);
  });

  it("retries network errors and finally rejects with fetch's shape (the socket error as cause)", async () => {
    const url = await closedPortUrl();
    const retries: unknown[] = [];
    const poster = new TracePoster({
      baseUrl: url,
      headers: {},
      onRetry: (_status, error) => retries.push(error),
      retryDelaysMs: [1],
    });
    const err = (await poster.post("call/upsert_batch", "{}").catch((e: unknown) => e)) as Error & {
      cause: { code: string };
    };
    expect(retries).toHaveLength(1);
    expect(err.message).toBe("fetch failed");
    expect(err.cause.code).toBe("ECONNREFUSED");
  });
});
