/**
 * The HTTP client under the azure-ai-inference provider's ModelClient: the SDK's pipeline and
 * policies stay (key or Entra headers, api-version, user agent, client request id, proxy,
 * redirects, logging), only the last step, one request over node:http(s), is this module's.
 *
 * Why not the SDK's own `NodeHttpClient` (@typespec/ts-http-runtime): per call it makes an
 * AbortController and adds a listener to the caller's signal, parses the URL, copies the headers
 * twice, races a second abort listener against the request and, once the body is handed over,
 * chains promises (`isStreamComplete`, `Promise.all`) only to remove the first listener. In a
 * CPU profile of `bakeoff run` at 0 ms latency and C = 64 that client and node:http under it
 * were most of what the provider cost per call (BENCHMARKS.md, "Where the CPU goes"). This one
 * sends the same request with one Set entry on the shared signal's abort fan-out
 * (run-abort.ts), a cached parsed URL and one header object, like the openai provider's
 * json-post.ts.
 *
 * What it honours of the SDK's client: url, method, headers, string/byte bodies (anything else
 * is refused with a TypeError naming the type), `abortSignal` (before and after the response:
 * a handed-over body is torn down too), `timeout` (the wait for headers, as the SDK's),
 * `streamResponseStatusCodes` (the body handed back unread as `readableStreamBody`, which
 * `asNodeStream()` and streamed calls use; otherwise read into `bodyAsText`), `agent` (set by
 * the proxy policy for HTTPS_PROXY/HTTP_PROXY), `tlsSettings`, `disableKeepAlive`,
 * `allowInsecureConnection`, `requestOverrides`, HEAD, gzip/deflate (and br) decompression, and
 * errors as the SDK's `RestError` (`code` from the socket, else `REQUEST_SEND_ERROR`) or an
 * `AbortError`. Left out: `onUploadProgress` / `onDownloadProgress` (nothing in bakeoff asks for
 * progress) and streamed or multipart request bodies (bakeoff sends JSON text only).
 */
import type {
  HttpClient,
  HttpHeaders,
  PipelineRequest,
  PipelineResponse,
  TlsSettings,
} from "@azure/core-rest-pipeline";
import type { Agent, IncomingMessage, RequestOptions } from "node:http";
import { pipeline, type Readable } from "node:stream";
import { http, nodeRequire } from "../util/node-http.js";
import { onRunAbort } from "./run-abort.js";
import { httpAgent, httpsTransport } from "./keep-alive.js";
import { decoderFor } from "./content-decoder.js";

// The SDK's own classes, through require like the rest of the SDK (see azure-ai-inference.ts):
// errors built with them are what the pipeline's policies and the SDK's callers recognise.
const { createHttpHeaders, RestError } = nodeRequire(
  "@azure/core-rest-pipeline",
) as typeof import("@azure/core-rest-pipeline");

/** The request target, parsed once per distinct URL (a provider calls two or three). */
interface Target {
  https: boolean;
  hostname: string;
  port: string;
  path: string;
}

/** Most parsed URLs kept; past it the cache starts over (a bound, not an LRU: URLs rarely vary). */
const MAX_TARGETS = 64;

function abortError(message: string): Error {
  return Object.assign(new Error(message), { name: "AbortError" });
}

/** Node's headers as the SDK's `HttpHeaders`; a repeated header keeps its first value, as the SDK's client did. */
function responseHeaders(res: IncomingMessage): HttpHeaders {
  const headers = createHttpHeaders();
  const raw = res.headers;
  for (const name in raw) {
    const value = raw[name];
    if (Array.isArray(value)) {
      if (value.length > 0) headers.set(name, value[0]!);
    } else if (value !== undefined && value !== "") headers.set(name, value);
  }
  return headers;
}

/** The body as node:http can write it; anything else is refused before a byte goes out. */
function bodyBytes(request: PipelineRequest): string | Buffer | undefined {
  if (request.multipartBody !== undefined)
    throw new TypeError("bakeoff's Azure HTTP client sends string or byte bodies only, not a multipart body");
  const body = typeof request.body === "function" ? request.body() : request.body;
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string" || Buffer.isBuffer(body)) return body;
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  const kind = (body as object).constructor?.name ?? typeof body;
  throw new TypeError(`bakeoff's Azure HTTP client sends string or byte bodies only, not a ${kind}`);
}

/** Reads a whole (non-streamed) response body as text; errors as the SDK's client reports them. */
function readText(stream: Readable): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    stream.on("error", (err: Error) => {
      reject(
        err.name === "AbortError"
          ? err
          : new RestError(`Error reading response as text: ${err.message}`, { code: RestError.PARSE_ERROR }),
      );
    });
  });
}

/**
 * Creates the client. Requests go through the process's keep-alive pools (keep-alive.ts), or one
 * pool per `tlsSettings` object when the pipeline sets one.
 */
export function createAzureHttpClient(): HttpClient {
  // Pools for requests with their own TLS settings (the SDK's tlsPolicy); the default ones are
  // the process's shared pools (keep-alive.ts).
  const httpsAgents = new WeakMap<TlsSettings, Agent>();
  const targets = new Map<string, Target>();

  function agentFor(request: PipelineRequest, target: Target): Agent {
    if (request.agent !== undefined) return request.agent as Agent;
    if (!target.https) return request.disableKeepAlive === true ? http.globalAgent : httpAgent;
    const https = httpsTransport();
    const settings = request.tlsSettings;
    if (settings === undefined) return request.disableKeepAlive === true ? https.module.globalAgent : https.agent;
    let agent = httpsAgents.get(settings);
    if (agent === undefined) {
      agent = new https.module.Agent({ keepAlive: request.disableKeepAlive !== true, ...settings });
      httpsAgents.set(settings, agent);
    }
    return agent;
  }

  function targetOf(url: string): Target {
    let target = targets.get(url);
    if (target === undefined) {
      const u = new URL(url);
      target = { https: u.protocol === "https:", hostname: u.hostname, port: u.port, path: `${u.pathname}${u.search}` };
      if (targets.size >= MAX_TARGETS) targets.clear();
      targets.set(url, target);
    }
    return target;
  }

  function sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
    return new Promise<PipelineResponse>((resolveOuter, rejectOuter) => {
      const signal = request.abortSignal;
      if (signal?.aborted === true)
        return rejectOuter(abortError("The operation was aborted. Request has already been canceled."));
      const target = targetOf(request.url);
      if (!target.https && request.allowInsecureConnection !== true)
        return rejectOuter(new Error(`Cannot connect to ${request.url} while allowInsecureConnection is false.`));
      const body = bodyBytes(request);

      const headers = request.headers.toJSON({ preserveCase: true });
      if (body !== undefined && !request.headers.has("content-length"))
        headers["Content-Length"] = String(typeof body === "string" ? Buffer.byteLength(body) : body.length);
      const options: RequestOptions = {
        hostname: target.hostname,
        port: target.port,
        path: target.path,
        method: request.method,
        headers,
        agent: agentFor(request, target),
        ...request.requestOverrides,
      };

      let settled = false;
      // What an abort tears down: the request until the response arrives, then the body stream
      // handed over (until it closed: a half-read body must not outlive its deadline).
      let teardown = (err: Error): void => void req.destroy(err);
      let timer: NodeJS.Timeout | undefined;
      let unsubscribe: () => void = () => undefined;
      const release = () => {
        unsubscribe();
        unsubscribe = () => undefined;
      };
      const resolve = (r: PipelineResponse) => {
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        resolveOuter(r);
      };
      const reject = (err: unknown) => {
        if (settled) return;
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        release();
        rejectOuter(err);
      };

      const req = (target.https ? httpsTransport().request : http.request)(options, (res) => {
        if (timer !== undefined) clearTimeout(timer);
        const status = res.statusCode ?? 0;
        const response: PipelineResponse = { status, headers: responseHeaders(res), request };
        if (request.method === "HEAD") {
          release();
          res.resume();
          return resolve(response);
        }
        const decoder = decoderFor(res.headers["content-encoding"]);
        // pipeline(), not pipe(): a reset or an abort of the socket must fail the decoded stream
        // too, or its reader would wait for an end that never comes.
        if (decoder !== undefined) pipeline(res, decoder, () => undefined);
        const stream = (decoder ?? res) as Readable;
        teardown = (err) => {
          stream.destroy(err);
          res.destroy(err);
        };
        stream.once("close", release);
        const streamed = request.streamResponseStatusCodes;
        if (streamed !== undefined && (streamed.has(Number.POSITIVE_INFINITY) || streamed.has(status))) {
          response.readableStreamBody = stream;
          return resolve(response);
        }
        readText(stream).then((text) => {
          response.bodyAsText = text;
          resolve(response);
        }, reject);
      });
      // Kept for the request's life: a socket error after we settled must not go unhandled.
      req.on("error", (err: Error & { code?: string }) => {
        reject(
          err.name === "AbortError"
            ? err
            : new RestError(err.message, { code: err.code ?? RestError.REQUEST_SEND_ERROR, request }),
        );
      });
      if (signal !== undefined) {
        const onAbort = () => {
          const err = abortError(
            "The operation was aborted. Rejecting from abort signal callback while making request.",
          );
          teardown(err);
          reject(err);
        };
        // The shared signal's one fan-out listener (run-abort.ts) when it is a real AbortSignal
        // (bakeoff's always are); a listener of its own for any other AbortSignalLike.
        if (signal instanceof AbortSignal) unsubscribe = onRunAbort(signal, onAbort);
        else {
          signal.addEventListener("abort", onAbort);
          unsubscribe = () => signal.removeEventListener("abort", onAbort);
        }
      }
      if (request.timeout > 0) {
        // As the SDK's client: the timeout covers the wait for the response's headers.
        timer = setTimeout(() => {
          const err = abortError(`The request to ${target.hostname} timed out after ${request.timeout} ms.`);
          req.destroy(err);
          reject(err);
        }, request.timeout);
      }
      req.end(body);
    });
  }

  return { sendRequest };
}
