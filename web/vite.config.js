// Build the UI into the supervisor's package: appliance/supervisor/web/ is served at "/".
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const outDir = fileURLToPath(new URL("../appliance/supervisor/web", import.meta.url));

export default defineConfig({
  base: "/",
  build: {
    outDir,
    emptyOutDir: true,
    target: "es2020",
    sourcemap: false,
    chunkSizeWarningLimit: 200,
  },
  server: {
    // `npm run dev` next to a running `evse sim` on :8080
    proxy: { "/api": { target: "http://127.0.0.1:8080", ws: true } },
  },
});
