/** Text of a PNG, JPEG or TIFF image by OCR, after checking its size from the header alone. */
import { imageSize } from "image-size";
import { ExtractionError, imageTooLarge, noText } from "./errors.ts";
import type { Ocr } from "./ocr.ts";
import type { ExtractionLimits, ExtractionResult } from "./types.ts";

/**
 * One page (page 1). A multi-page TIFF is read from its first frame only (tesseract.js reads the
 * first image of a file); its size check covers every frame image-size lists.
 */
export async function extractImage(bytes: Uint8Array, limits: ExtractionLimits, ocr: Ocr): Promise<ExtractionResult> {
  checkImageSize(bytes, limits);
  let text: string;
  try {
    text = await ocr.recognize(bytes);
  } catch {
    throw new ExtractionError("CORRUPT", "The image is damaged and cannot be read");
  }
  if (text === "") throw noText();
  return { pageCount: 1, pages: [{ page: 1, text, ocr: true }] };
}

/** IMAGE_TOO_LARGE before any pixel is decoded (a 30000 × 30000 PNG is 150 KB on disk, 3.6 GB decoded). */
export function checkImageSize(bytes: Uint8Array, limits: ExtractionLimits): void {
  let frames: { width?: number; height?: number }[];
  try {
    const size = imageSize(bytes);
    frames = size.images?.length ? size.images : [size];
  } catch {
    throw new ExtractionError("CORRUPT", "The image is damaged and cannot be read");
  }
  for (const { width = 0, height = 0 } of frames) {
    if (width * height > limits.maxImagePixels) throw imageTooLarge(width, height, limits.maxImagePixels);
    if (width === 0 || height === 0) throw new ExtractionError("CORRUPT", "The image is damaged and cannot be read (no size in its header)");
  }
}
