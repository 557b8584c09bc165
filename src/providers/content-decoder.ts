/**
 * Response bodies the services compress: both providers' own node:http transports
 * (json-post.ts, azure-http-client.ts) decode what `fetch` and the SDK's client decoded.
 */
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";

/** The decoder for a `content-encoding`, or undefined for identity (or an encoding not decoded here). */
export function decoderFor(encoding: string | undefined): NodeJS.ReadWriteStream | undefined {
  switch (encoding?.trim().toLowerCase()) {
    case "gzip":
    case "x-gzip":
      return createGunzip();
    case "deflate":
      return createInflate();
    case "br":
      return createBrotliDecompress();
    default:
      return undefined;
  }
}
