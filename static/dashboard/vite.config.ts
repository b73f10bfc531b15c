import vue from "@vitejs/plugin-vue";
import { defineConfig } from "vite";

// `npm run dev` talks to a backend at DATALAB_BACKEND (default: `make run`'s) and listens on
// DATALAB_DEV_PORT (default 5173), so that several can run side by side.
const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
const backend = env.DATALAB_BACKEND ?? "http://127.0.0.1:8000";
const src = decodeURIComponent(new URL("./src", import.meta.url).pathname);

// Built into static/dist, which Django serves under /static/ (and its index.html at /).
// The dev server answers every route with the app and passes the backend's paths through.
export default defineConfig(({ command }) => ({
  base: command === "build" ? "/static/" : "/",
  plugins: [vue()],
  resolve: { alias: { "@": src } },
  build: {
    outDir: "../dist",
    emptyOutDir: true,
    target: "es2022",
    cssTarget: ["chrome123", "edge123", "firefox120", "safari17.5"],
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 700,
    rolldownOptions: {
      output: {
        // Vue, the router and Pinia change less often than the app: a chunk of their own.
        codeSplitting: {
          groups: [{ name: "vue", test: /[\\/]node_modules[\\/](@vue|vue|vue-router|pinia)[\\/]/ }],
        },
      },
    },
  },
  server: {
    port: Number(env.DATALAB_DEV_PORT ?? 5173),
    strictPort: true,
    proxy: {
      "/api": backend,
      "/admin": backend,
      "/static/datalab.js": backend,
      "/ws": { target: backend, ws: true },
    },
  },
}));
