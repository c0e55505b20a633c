import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { SECTION_SCHEMAS } from "../src/iep/content.ts";

/** Every IEP content key in the order the section schemas declare them (the page shows fields in that order). */
function contentKeyOrder(): string[] {
  const keys = new Set<string>();
  const visit = (schema: unknown): void => {
    const node = schema as { shape?: Record<string, unknown>; element?: unknown; unwrap?: () => unknown };
    if (node.shape) {
      for (const [key, child] of Object.entries(node.shape)) {
        keys.add(key);
        visit(child);
      }
    } else if (node.element) visit(node.element);
    else if (typeof node.unwrap === "function") visit(node.unwrap());
  };
  Object.values(SECTION_SCHEMAS).forEach(visit);
  return [...keys];
}

/**
 * The web page (served by the API at `/`). `npm install` and `npm start` build it into web/dist
 * (scripts/build-web.ts). For live editing, `npx vite web` serves it on :5173 and proxies
 * /graphql (HTTP and WebSocket) to an API on :4000.
 */
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/",
  define: { __IEP_KEY_ORDER__: JSON.stringify(contentKeyOrder()) },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // No data: URIs or inline code: everything is a same-origin file the CSP allows.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: { proxy: { "/graphql": { target: "http://localhost:4000", ws: true } } },
});
