import vue from "@vitejs/plugin-vue";
import { defineConfig } from "vitest/config";

const src = decodeURIComponent(new URL("./src", import.meta.url).pathname);

export default defineConfig({
  plugins: [vue()],
  resolve: { alias: { "@": src } },
  test: {
    environment: "jsdom",
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    restoreMocks: true,
    unstubGlobals: true,
  },
});
