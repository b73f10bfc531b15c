// The budget (issue 18): dist/datalab.js (built by test/global-setup.ts) at most 2,048 bytes gzipped
// at level 9, with everything it does (acks, queue, SPA tracking, elements).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { expect, it } from "vitest";

const BUDGET = 2048;
const BUNDLE = fileURLToPath(new URL("../dist/datalab.js", import.meta.url));

it(`dist/datalab.js is at most ${BUDGET} bytes gzipped (level 9)`, () => {
  const gz = gzipSync(readFileSync(BUNDLE), { level: 9 }).length;
  console.log(`dist/datalab.js: ${readFileSync(BUNDLE).length} bytes, ${gz} bytes gzip -9 (budget ${BUDGET})`);
  expect(gz).toBeLessThanOrEqual(BUDGET);
});
