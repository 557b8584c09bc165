/**
 * `node:http` loaded with `require`, not `import`. On Node 22 and later the ES-module view of
 * `node:http` is built by reading every export, including the lazy `WebSocket`, `CloseEvent` and
 * `MessageEvent` getters, and that loads undici with its HTTP/2 and TLS parts: 70-110 ms of CPU
 * at the start of every run, for classes bakeoff never uses (measured; Node 20 has no such
 * getters). The CommonJS module object is the same `node:http`, without that side effect.
 * The Azure SDK is loaded the same way for the same reason (see providers/azure-ai-inference.ts).
 */
import { createRequire } from "node:module";

export const nodeRequire = createRequire(import.meta.url);

export const http = nodeRequire("node:http") as typeof import("node:http");
