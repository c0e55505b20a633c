import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

/**
 * The web page (served by the API at `/`). `npm install` and `npm start` build it into web/dist
 * (scripts/build-web.ts). For live editing, `npx vite web` serves it on :5173 and proxies
 * /graphql (HTTP and WebSocket) to an API on :4000.
 */
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/",
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
