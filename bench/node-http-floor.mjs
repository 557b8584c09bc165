/**
 * The physical floor of an openai call, shared by every bench that measures against it
 * (bench/bare-loop.mjs, bench/provider-ab.ts, bench/openai-transport.ts): one keep-alive agent,
 * `POST <url>` with the JSON body and the headers the provider sends (src/providers/json-post.ts),
 * the answer read and parsed, nothing else (no decoding, size cap, abort signal or retry). Plain
 * JS so bare-loop.mjs, which must pay no TypeScript loader, can import it.
 */
import { Buffer } from "node:buffer";
import http from "node:http";

/**
 * A caller for `url` (the full chat completions URL) over `agent`: each call posts `body` (an
 * object, serialised per call as the provider does) and resolves once a 200 answer with a
 * message's text was read and parsed; rejects otherwise.
 */
export function nodeHttpFloor(url, key, agent) {
  const target = new URL(url);
  const headers = {
    "content-type": "application/json",
    accept: "application/json",
    "user-agent": "bakeoff bench (bare node:http)",
    authorization: `Bearer ${key}`,
  };
  return (body) =>
    new Promise((resolve, reject) => {
      const text = JSON.stringify(body);
      const req = http.request(
        target,
        { method: "POST", agent, headers: { ...headers, "content-length": String(Buffer.byteLength(text)) } },
        (res) => {
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => {
            try {
              const answer = JSON.parse(Buffer.concat(chunks).toString("utf8"));
              if (res.statusCode !== 200 || typeof answer.choices?.[0]?.message?.content !== "string")
                throw new Error(`call failed: ${res.statusCode}`);
              resolve();
            } catch (err) {
              reject(err);
            }
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(text);
    });
}
