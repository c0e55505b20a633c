/**
 * Decompression-bomb checks run before a parser sees the bytes: pdf.js and mammoth inflate whole
 * streams into memory (ArrayBuffers outside the worker's V8 heap limit), so a 20 KB PDF that
 * inflates to gigabytes would exhaust the machine long before a time budget ends it. Here every
 * deflate stream is inflated once with the output discarded as it is produced, counting bytes.
 */
import { createInflate, createInflateRaw, type Inflate, type InflateRaw } from "node:zlib";

const CHUNK_BYTES = 256 * 1024;
/** Streams deflated more than this many times over are not followed further (pdf.js would; no real file does). */
const MAX_LAYERS = 3;

/**
 * Bytes `data` inflates to (zlib format, or raw deflate as in a ZIP), counting at most `limit`:
 * Infinity when it would exceed `limit`, 0 when `data` is not deflate data. A stream whose output
 * is itself a zlib stream (a PDF filter chain [/FlateDecode /FlateDecode]) is counted through its
 * innermost layer.
 */
export async function inflatedSize(data: Uint8Array, limit: number, format: "zlib" | "raw" = "zlib", layer = 1): Promise<number> {
  const inflater: Inflate | InflateRaw = format === "zlib" ? createInflate({ chunkSize: CHUNK_BYTES }) : createInflateRaw({ chunkSize: CHUNK_BYTES });
  inflater.end(data);
  let total = 0;
  let nested: Buffer[] | undefined;
  try {
    for await (const chunk of inflater as AsyncIterable<Buffer>) {
      if (total === 0 && layer < MAX_LAYERS && looksLikeZlib(chunk)) nested = [];
      total += chunk.length;
      if (total > limit) return Infinity;
      nested?.push(chunk);
    }
  } catch {
    // Not deflate data, or damaged after some output: the parser will fail on it the same way.
  } finally {
    inflater.destroy();
  }
  if (!nested) return total;
  return Math.max(total, await inflatedSize(Buffer.concat(nested), limit, "zlib", layer + 1));
}

/** A zlib header: deflate method, 32K window at most, and a valid check value. */
function looksLikeZlib(bytes: Uint8Array): boolean {
  if (bytes.length < 2) return false;
  const [cmf, flg] = [bytes[0]!, bytes[1]!];
  return (cmf & 0x0f) === 8 && cmf >> 4 <= 7 && ((cmf << 8) | flg) % 31 === 0;
}

const STREAM = Buffer.from("stream");
const END_STREAM = Buffer.from("endstream");

/**
 * Whether every deflate stream of a PDF inflates to at most `perStream` bytes and all of them
 * together to at most `total`. Streams are found by their `stream` keyword, without parsing the
 * file (pdf.js does that later; a damaged cross-reference table does not hide a stream here).
 */
export async function pdfStreamsWithin(pdf: Uint8Array, perStream: number, total: number): Promise<boolean> {
  const bytes = Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength);
  let sum = 0;
  for (let at = bytes.indexOf(STREAM); at !== -1; at = bytes.indexOf(STREAM, at + STREAM.length)) {
    if (at >= 3 && bytes.toString("latin1", at - 3, at) === "end") continue;
    let start = at + STREAM.length;
    if (bytes[start] === 0x0d) start++;
    if (bytes[start] === 0x0a) start++;
    const end = bytes.indexOf(END_STREAM, start);
    const size = await inflatedSize(bytes.subarray(start, end === -1 ? bytes.length : end), Math.min(perStream, total - sum));
    sum += size;
    if (sum > total) return false;
  }
  return true;
}
