/**
 * Turns the decoded images pdf.js hands out ({ width, height, kind, data }), and TIFF frames decoded
 * to RGBA, into PNM files (netpbm: a short text header and the raw samples), which tesseract's
 * leptonica reads directly.
 */

/** pdf.js ImageKind: 1 = 1 bit per pixel grayscale (bit set = white), 2 = RGB, 3 = RGBA. */
export const IMAGE_KIND = { GRAYSCALE_1BPP: 1, RGB_24BPP: 2, RGBA_32BPP: 3 } as const;

export interface DecodedImage {
  width: number;
  height: number;
  kind?: number;
  data: Uint8Array | Uint8ClampedArray;
}

/** A PNM file of the image (PBM, or PPM for colour); undefined for a layout pdf.js does not use. */
export function toPnm(image: DecodedImage, isMask = false): Uint8Array | undefined {
  const { width, height, data } = image;
  const rowBytes = Math.ceil(width / 8);
  if (isMask && data.length >= rowBytes * height) return pnm("P4", width, height, data.subarray(0, rowBytes * height));
  if (image.kind === IMAGE_KIND.GRAYSCALE_1BPP && data.length >= rowBytes * height) {
    // PBM's bit set is black: the opposite of pdf.js's.
    const bits = new Uint8Array(rowBytes * height);
    for (let i = 0; i < bits.length; i++) bits[i] = ~data[i]! & 0xff;
    return pnm("P4", width, height, bits);
  }
  if (image.kind === IMAGE_KIND.RGB_24BPP && data.length >= width * height * 3) return pnm("P6", width, height, data.subarray(0, width * height * 3));
  if (image.kind === IMAGE_KIND.RGBA_32BPP && data.length >= width * height * 4) return pnm("P6", width, height, rgbaOnWhite(data, width * height));
  return undefined;
}

function pnm(magic: "P4" | "P6", width: number, height: number, samples: Uint8Array | Uint8ClampedArray): Uint8Array {
  const header = Buffer.from(magic === "P4" ? `P4\n${width} ${height}\n` : `P6\n${width} ${height}\n255\n`, "latin1");
  const file = new Uint8Array(header.length + samples.length);
  file.set(header);
  file.set(samples, header.length);
  return file;
}

/** RGB of RGBA pixels composited on white (transparent parts of a scan are paper). */
function rgbaOnWhite(rgba: Uint8Array | Uint8ClampedArray, pixels: number): Uint8Array {
  const rgb = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    const alpha = rgba[p * 4 + 3]!;
    for (let c = 0; c < 3; c++) rgb[p * 3 + c] = Math.round((rgba[p * 4 + c]! * alpha + 255 * (255 - alpha)) / 255);
  }
  return rgb;
}
