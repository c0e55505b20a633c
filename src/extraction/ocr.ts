/**
 * OCR with tesseract.js and the English data shipped in @tesseract.js-data/eng (4.0.0_best_int,
 * gzipped): nothing is downloaded at run time (langPath is a local directory, the WASM core is
 * required from tesseract.js-core, and cacheMethod "none" neither reads nor writes a cache).
 * tesseract.js runs its own nested worker thread; one per extraction thread, made on first use.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import tesseract from "tesseract.js";

const require = createRequire(import.meta.url);
/** Where the shipped English model lives (eng.traineddata.gz). */
export const ENGLISH_LANG_PATH = join(dirname(require.resolve("@tesseract.js-data/eng")), "4.0.0_best_int");
const LSTM_ONLY = 1;

type TesseractWorker = Awaited<ReturnType<typeof tesseract.createWorker>>;

export class Ocr {
  #worker: Promise<TesseractWorker> | undefined;

  /** The text tesseract reads in one encoded image (PNG, JPEG, a single-frame TIFF, PNM …); image.ts hands it a multi-page TIFF frame by frame. */
  async recognize(image: Uint8Array): Promise<string> {
    this.#worker ??= tesseract.createWorker("eng", LSTM_ONLY, {
      langPath: ENGLISH_LANG_PATH,
      gzip: true,
      cacheMethod: "none",
      // Without a handler tesseract.js throws failures from a message listener (an uncaught
      // exception); with one, recognize() simply rejects.
      errorHandler: () => {},
    });
    const worker = await this.#worker;
    try {
      const { data } = await worker.recognize(Buffer.from(image.buffer, image.byteOffset, image.byteLength));
      return tidy(data.text);
    } catch (error) {
      // A failed read can leave the WASM instance in a bad state: start afresh next time.
      await this.terminate();
      throw error;
    }
  }

  async terminate(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.then((w) => w.terminate()).catch(() => {});
  }
}

/** Trims each line and collapses runs of blank lines to one. */
function tidy(text: string): string {
  return text.split("\n").map((line) => line.trim()).join("\n").replace(/\n{3,}/g, "\n\n").trim();
}
