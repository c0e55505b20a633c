import { fileTypeFromBuffer } from "file-type";

/** The evidence file types iepgen accepts, by their IANA media type. */
export const MEDIA_TYPES = {
  PDF: "application/pdf",
  DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  PNG: "image/png",
  JPEG: "image/jpeg",
  TIFF: "image/tiff",
  TEXT: "text/plain",
} as const;

export type EvidenceMediaType = (typeof MEDIA_TYPES)[keyof typeof MEDIA_TYPES];

export const SUPPORTED_MEDIA_TYPES: readonly EvidenceMediaType[] = Object.values(MEDIA_TYPES);

const EXTENSIONS: Record<EvidenceMediaType, string> = {
  [MEDIA_TYPES.PDF]: ".pdf",
  [MEDIA_TYPES.DOCX]: ".docx",
  [MEDIA_TYPES.PNG]: ".png",
  [MEDIA_TYPES.JPEG]: ".jpg",
  [MEDIA_TYPES.TIFF]: ".tif",
  [MEDIA_TYPES.TEXT]: ".txt",
};

/** Extension for a sniffed type, used to fix download filenames: ".pdf" etc. */
export function extensionFor(type: EvidenceMediaType): string {
  return EXTENSIONS[type];
}

const BINARY_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.PDF, MEDIA_TYPES.DOCX, MEDIA_TYPES.PNG, MEDIA_TYPES.JPEG, MEDIA_TYPES.TIFF]);

/**
 * Sniffed from the bytes only (file-type's signatures, then a strict UTF-8 plain-text check);
 * undefined = unsupported, including a ZIP that is not a Word document and any executable.
 * Cheap: file-type reads headers (and a ZIP's entry names), and the text check is one decode, so
 * it is safe on the event loop for 25 MB.
 */
export async function sniffMediaType(bytes: Uint8Array): Promise<EvidenceMediaType | undefined> {
  if (bytes.length === 0) return undefined;
  const detected = await fileTypeFromBuffer(bytes);
  if (detected) return BINARY_TYPES.has(detected.mime) ? (detected.mime as EvidenceMediaType) : undefined;
  return (await isPlainText(bytes)) ? MEDIA_TYPES.TEXT : undefined;
}

const TEXT_SLICE_BYTES = 1024 * 1024;
const FORBIDDEN_CONTROL = /[\x00-\x08\x0b\x0e-\x1f]/;

/**
 * Valid UTF-8 without NUL or C0 control characters other than tab, line feed, carriage return and
 * form feed. Decodes 1 MB slices (a streaming decoder keeps characters split across slices) and
 * yields to the event loop between them, so 25 MB never holds it for more than a few ms.
 */
export async function isPlainText(bytes: Uint8Array): Promise<boolean> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  try {
    for (let offset = 0; offset < bytes.length; offset += TEXT_SLICE_BYTES) {
      const end = Math.min(bytes.length, offset + TEXT_SLICE_BYTES);
      if (FORBIDDEN_CONTROL.test(decoder.decode(bytes.subarray(offset, end), { stream: end < bytes.length }))) return false;
      if (end < bytes.length) await new Promise((resolve) => setImmediate(resolve));
    }
    return true;
  } catch {
    return false;
  }
}
