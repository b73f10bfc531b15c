import vue from "@vitejs/plugin-vue";
import { defineConfig } from "vite";

const backend = "http://127.0.0.1:8000";
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
    port: 5173,
    strictPort: true,
    proxy: {
      "/api": backend,
      "/admin": backend,
      "/static/datalab.js": backend,
      "/ws": { target: backend, ws: true },
    },
  },
}));
