// Builds dist/datalab.js (minified IIFE for the script tag), dist/index.mjs (ESM) and the
// type declarations (dist/index.d.ts). Usage: node build.mjs
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, "dist");
const common = { bundle: true, target: "es2019", legalComments: "none", logLevel: "warning" };

export async function buildAll() {
  rmSync(dist, { recursive: true, force: true });
  await build({
    ...common,
    entryPoints: [join(root, "src/script.ts")],
    outfile: join(dist, "datalab.js"),
    format: "iife",
    minify: true,
  });
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
