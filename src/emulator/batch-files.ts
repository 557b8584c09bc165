/**
 * The emulator's file store for the Batch API: uploaded input files and the output/error files
 * batches write, held in memory (a test server), each belonging to one scope, the endpoint it was
 * created under (a sim's own `/<sim>/openai/v1`, or the multi-model root), as files belong to one
 * resource on the real services.
 */
import { randomBytes } from "node:crypto";

/** A stored file. */
export interface StoredFile {
  id: string;
  scope: string;
  filename: string;
  purpose: "batch" | "batch_output";
  data: Buffer;
  /** Unix seconds. */
  createdAt: number;
  /** Insertion order, for stable newest-first listing when several files share a second. */
  seq: number;
}

/** The `FileObject` the openai package parses. */
export function fileObject(file: StoredFile): Record<string, unknown> {
  return {
    id: file.id,
    object: "file",
    bytes: file.data.length,
    created_at: file.createdAt,
    // Batch files expire after 30 days on the real services.
    expires_at: file.createdAt + 30 * 24 * 3600,
    filename: file.filename,
    purpose: file.purpose,
    status: "processed",
    status_details: null,
  };
}

/** A random id with the service's prefix (`file-`, `batch_`, `batch_req_`). */
export function serviceId(prefix: string, length = 24): string {
  return `${prefix}${randomBytes(length).toString("base64url").replace(/[-_]/g, "").slice(0, length)}`;
}

/** One page of a newest-first listing, in the shape of the openai package's `CursorPage`. */
export interface ListPage<T> {
  object: "list";
  data: T[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

/**
 * Pages through `items` (already in listing order) after the item with id `after`, `limit` at a
 * time. An unknown `after` yields an empty page, as a stale cursor does on the service.
 */
export function pageOf<T extends { id: string }, U>(
  items: readonly T[],
  after: string | undefined,
  limit: number,
  view: (item: T) => U,
): ListPage<U> {
  let start = 0;
  if (after !== undefined) {
    const at = items.findIndex((item) => item.id === after);
    start = at < 0 ? items.length : at + 1;
  }
  const slice = items.slice(start, start + limit);
  return {
    object: "list",
    data: slice.map(view),
    first_id: slice[0]?.id ?? null,
    last_id: slice[slice.length - 1]?.id ?? null,
    has_more: start + limit < items.length,
  };
}

/** The files of every scope. */
export class FileStore {
  private readonly files = new Map<string, StoredFile>();
  private seq = 0;

  add(scope: string, filename: string, purpose: StoredFile["purpose"], data: Buffer): StoredFile {
    const file: StoredFile = {
      id: serviceId("file-"),
      scope,
      filename,
      purpose,
      data,
      createdAt: Math.floor(Date.now() / 1000),
      seq: this.seq++,
    };
    this.files.set(file.id, file);
    return file;
  }

  /** The file with this id in this scope, if any (another scope's file is not found, as on the service). */
  get(scope: string, id: string): StoredFile | undefined {
    const file = this.files.get(id);
    return file?.scope === scope ? file : undefined;
  }

  delete(scope: string, id: string): boolean {
    if (this.get(scope, id) === undefined) return false;
    this.files.delete(id);
    return true;
  }

  /** The scope's files, newest first (or oldest first with `order: "asc"`), optionally of one purpose. */
  list(scope: string, purpose: string | undefined, order: "asc" | "desc"): StoredFile[] {
    const files = [...this.files.values()].filter(
      (f) => f.scope === scope && (purpose === undefined || f.purpose === purpose),
    );
    return order === "asc" ? files : files.reverse();
  }

  clear(): void {
    this.files.clear();
  }
}
