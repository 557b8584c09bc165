/**
 * The process's keep-alive connection pools, one per scheme, shared by both providers' node:http
 * transports (json-post.ts for the openai provider, azure-http-client.ts under the ModelClient):
 * connections to a host are reused across models, providers and runs, as undici's global
 * dispatcher and the Azure SDK's cached client did. Idle sockets are unref'd by the agent, so
 * they never hold the process open. node:http comes through require (util/node-http.ts: its
 * ES-module view loads undici at start-up); node:https, and TLS with it, only once an https
 * endpoint is called.
 */
import type { Agent } from "node:http";
import type * as Https from "node:https";
import { http, nodeRequire } from "../util/node-http.js";

export const httpAgent = new http.Agent({ keepAlive: true });

/** node:https, its keep-alive pool (default TLS settings) and its `request`. */
export interface HttpsTransport {
  module: typeof Https;
  agent: Agent;
  request: typeof Https.request;
}

let https: HttpsTransport | undefined;

export function httpsTransport(): HttpsTransport {
  if (https === undefined) {
    const module = nodeRequire("node:https") as typeof Https;
    https = { module, agent: new module.Agent({ keepAlive: true }), request: module.request };
  }
  return https;
}
