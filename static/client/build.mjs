// Builds dist/datalab.js (minified IIFE for the script tag), dist/index.mjs (ESM) and the
// type declarations (dist/index.d.ts). Usage: node build.mjs
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import uglify from "uglify-js";

const { minify } = uglify;

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, "dist");
const common = { bundle: true, target: "es2019", legalComments: "none", logLevel: "warning" };

export async function buildAll() {
  rmSync(dist, { recursive: true, force: true });
  // the script tag's bundle: esbuild bundles, UglifyJS minifies (2-3 % smaller gzipped than
  // esbuild's or terser's minifier on this code; the budget is 2,048 bytes, test/size.test.ts)
  const iife = await build({
    ...common,
    entryPoints: [join(root, "src/script.ts")],
    format: "iife",
    write: false,
    // a classic script needs no "use strict" prologue: 13 bytes that gzip cannot hide
    tsconfigRaw: { compilerOptions: { alwaysStrict: false } },
  });
  // no `toplevel`: the IIFE must stay, or its names would land in the host page's globals
  const min = minify(iife.outputFiles[0].text, { compress: { passes: 5, pure_getters: true }, mangle: true });
  if (min.error) throw min.error;
  mkdirSync(dist, { recursive: true });
  writeFileSync(join(dist, "datalab.js"), min.code);
  await build({
    ...common,
    entryPoints: [join(root, "src/index.ts")],
    outfile: join(dist, "index.mjs"),
    format: "esm",
  });
  // declarations: only index.d.ts is published, and it must stand alone (no relative imports)
  const tmp = mkdtempSync(join(tmpdir(), "datalab-dts-"));
  try {
    const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
    execFileSync(process.execPath, [tsc, "-p", root, "--emitDeclarationOnly", "--outDir", tmp], { stdio: "inherit" });
    if (/from\s+["']\./.test(readFileSync(join(tmp, "index.d.ts"), "utf8"))) {
      throw new Error("index.d.ts refers to another module: declare the public types in src/index.ts");
    }
    copyFileSync(join(tmp, "index.d.ts"), join(dist, "index.d.ts"));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildAll();
