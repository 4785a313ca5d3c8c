/**
 * Export the explorer's current filter as a file, from GET /export (src/http/export-route.ts).
 * The key goes as `Authorization: Bearer`, which a plain link cannot send, so the file is
 * fetched; where the File System Access API exists (Chromium), the user picks the file first
 * and the body is streamed to disk as it arrives (constant memory for a large export);
 * elsewhere it is collected into a Blob and downloaded.
 */
import type { TraceFilter, TraceOrder } from "../gql/graphql.js";
import { ApiError, fromGraphQLError } from "./api.js";

/** The formats offered, with the file name extension and type each is saved as. */
export const EXPORT_FORMATS = {
  jsonl: { label: "JSONL (traces)", extension: ".jsonl", mime: "application/x-ndjson" },
  csv: { label: "CSV", extension: ".csv", mime: "text/csv" },
  ocsf: { label: "OCSF 1.3.0 (JSONL)", extension: ".ocsf.jsonl", mime: "application/x-ndjson" },
} as const;
export type ConsoleExportFormat = keyof typeof EXPORT_FORMATS;

/** /export's order names for the explorer's orders: the file comes in the order the table shows. */
const EXPORT_ORDER: Record<TraceOrder, string> = {
  SEQ_ASC: "seq",
  SEQ_DESC: "seq-desc",
  INVOKED_AT_ASC: "time",
  INVOKED_AT_DESC: "time-desc",
};

/** The /export URL for a filter: the same filter fields, under the same names. */
export function exportUrl(format: ConsoleExportFormat, filter: TraceFilter, order: TraceOrder): string {
  const params = new URLSearchParams({ format });
  for (const [name, value] of Object.entries(filter)) if (value !== undefined && value !== null) params.set(name, String(value));
  params.set("order", EXPORT_ORDER[order]);
  return `/export?${params}`;
}

/** `tracegate-traces-20260102T030405Z.csv`: when, in UTC, and what. */
export function exportFileName(format: ConsoleExportFormat, now = new Date()): string {
  return `tracegate-traces-${now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "")}${EXPORT_FORMATS[format].extension}`;
}

/** The subset of the File System Access API used here (not yet in TypeScript's DOM types). */
interface SaveFilePicker {
  showSaveFilePicker?: (options: {
    suggestedName: string;
    types: { description: string; accept: Record<string, string[]> }[];
  }) => Promise<FileSystemFileHandle & { createWritable(): Promise<WritableStream<Uint8Array>> }>;
}

/** How an export ended. */
export type ExportOutcome = { saved: "file" | "download"; name: string; bytes: number } | { saved: "cancelled" };

async function failure(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as { errors?: { message?: string; extensions?: { code?: unknown } }[] };
    return fromGraphQLError(body.errors?.[0]);
  } catch {
    return new ApiError(response.status >= 500 ? "UNREACHABLE" : "ERROR", `HTTP ${response.status} ${response.statusText}.`);
  }
}

/**
 * Download the export. Call it straight from the click (the file picker needs the user's
 * gesture). `onProgress` gets the bytes written so far.
 * @throws ApiError for a refused request (UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT...) or a
 *   broken transfer (UNREACHABLE); a partly written file is then removed where possible.
 */
export async function runExport(
  format: ConsoleExportFormat,
  filter: TraceFilter,
  order: TraceOrder,
  key: string,
  onProgress: (bytes: number) => void,
): Promise<ExportOutcome> {
  const name = exportFileName(format);
  const spec = EXPORT_FORMATS[format];
  const picker = (window as unknown as SaveFilePicker).showSaveFilePicker;
  let handle: Awaited<ReturnType<NonNullable<SaveFilePicker["showSaveFilePicker"]>>> | undefined;
  if (picker) {
    try {
      handle = await picker({ suggestedName: name, types: [{ description: spec.label, accept: { [spec.mime]: [spec.extension] } }] });
    } catch (e) {
      if ((e as DOMException).name === "AbortError") return { saved: "cancelled" };
      throw e;
    }
  }
  let response: Response;
  try {
    response = await fetch(exportUrl(format, filter, order), { headers: { authorization: `Bearer ${key}` }, cache: "no-store", credentials: "omit" });
  } catch (e) {
    throw new ApiError("UNREACHABLE", `${(e as Error).message || "network error"}.`);
  }
  if (!response.ok || !response.body) throw await failure(response);
  let bytes = 0;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      bytes += chunk.byteLength;
      onProgress(bytes);
      controller.enqueue(chunk);
    },
  });
  const counted = response.body.pipeThrough(counter);
  try {
    if (handle) {
      // pipeTo closes the file on success and aborts it (discarding what was written) on failure.
      await counted.pipeTo(await handle.createWritable());
      return { saved: "file", name: handle.name, bytes };
    }
    const blob = await new Response(counted).blob();
    const url = URL.createObjectURL(new Blob([blob], { type: spec.mime }));
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    return { saved: "download", name, bytes };
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError("UNREACHABLE", `the export broke off after ${bytes} bytes (${(e as Error).message}); nothing was kept.`);
  }
}
