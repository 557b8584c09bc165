/**
 * A small multipart/form-data parser (RFC 7578) for `POST /files`: the boundary from the
 * content-type, each part's name, filename and content type, and its bytes untouched (a file may
 * hold anything, a byte-order mark included, which the caller must be able to see and refuse).
 * Whole-buffer rather than streaming: uploads are bounded before they get here.
 */

/** One part of a form. */
export interface FormPart {
  name: string;
  /** The `filename` of a file part; undefined for a plain field. */
  filename?: string;
  contentType?: string;
  data: Buffer;
}

export type ParsedForm = { ok: true; parts: FormPart[] } | { ok: false; message: string };

/** The boundary parameter of a multipart/form-data content-type, if it is one. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const [type, ...params] = contentType.split(";");
  if (type?.trim().toLowerCase() !== "multipart/form-data") return undefined;
  for (const param of params) {
    const eq = param.indexOf("=");
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== "boundary") continue;
    let value = param.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    // RFC 2046: 1 to 70 characters.
    return value.length >= 1 && value.length <= 70 ? value : undefined;
  }
  return undefined;
}

/** Parses a whole multipart/form-data body. */
export function parseMultipart(body: Buffer, boundary: string): ParsedForm {
  const fail = (message: string): ParsedForm => ({ ok: false, message });
  const dash = Buffer.from(`--${boundary}`);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  // The body opens with the first delimiter (a preamble before it is allowed and ignored).
  let at = body.subarray(0, dash.length).equals(dash) ? 0 : body.indexOf(delimiter);
  if (at < 0) return fail("the multipart body has no boundary delimiter");
  at += at === 0 && body.subarray(0, dash.length).equals(dash) ? dash.length : delimiter.length;
  const parts: FormPart[] = [];
  for (;;) {
    // After a delimiter: "--" closes the body, otherwise optional whitespace and CRLF open a part.
    if (body[at] === 0x2d && body[at + 1] === 0x2d) return { ok: true, parts };
    while (body[at] === 0x20 || body[at] === 0x09) at++;
    if (body[at] !== 0x0d || body[at + 1] !== 0x0a) return fail("malformed multipart delimiter line");
    at += 2;
    const headerEnd = body.indexOf("\r\n\r\n", at);
    if (headerEnd < 0) return fail("a multipart part has no end of headers");
    const headers = parseHeaders(body.subarray(at, headerEnd).toString("utf8"));
    const start = headerEnd + 4;
    const end = body.indexOf(delimiter, start);
    if (end < 0) return fail("the multipart body ends before its closing boundary");
    const disposition = headers.get("content-disposition");
    const params = disposition === undefined ? undefined : dispositionParams(disposition);
    if (params === undefined) return fail("a multipart part has no Content-Disposition: form-data header");
    const name = params.get("name");
    if (name === undefined) return fail("a multipart part has no name");
    const part: FormPart = { name, data: body.subarray(start, end) };
    const filename = params.get("filename");
    if (filename !== undefined) part.filename = filename;
    const contentType = headers.get("content-type");
    if (contentType !== undefined) part.contentType = contentType;
    parts.push(part);
    at = end + delimiter.length;
  }
}

function parseHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of block.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

/** `form-data; name="file"; filename="a.jsonl"` → its parameters; undefined if not form-data. */
function dispositionParams(value: string): Map<string, string> | undefined {
  const params = new Map<string, string>();
  let i = value.indexOf(";");
  if ((i < 0 ? value : value.slice(0, i)).trim().toLowerCase() !== "form-data") return undefined;
  while (i >= 0 && i < value.length) {
    i++; // past ';'
    while (value[i] === " " || value[i] === "\t") i++;
    const eq = value.indexOf("=", i);
    if (eq < 0) break;
    const key = value.slice(i, eq).trim().toLowerCase();
    let j = eq + 1;
    let v = "";
    if (value[j] === '"') {
      // Quoted string: browsers and undici escape '"' as %22 or \" ; honour the backslash form.
      j++;
      while (j < value.length && value[j] !== '"') {
        if (value[j] === "\\" && j + 1 < value.length) j++;
        v += value[j];
        j++;
      }
      j++; // closing quote
    } else {
      const semi = value.indexOf(";", j);
      v = (semi < 0 ? value.slice(j) : value.slice(j, semi)).trim();
      j = semi < 0 ? value.length : semi;
    }
    params.set(key, v);
    i = value.indexOf(";", j);
  }
  return params;
}
