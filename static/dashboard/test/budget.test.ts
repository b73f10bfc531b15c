// @vitest-environment node
import { describe, expect, it } from "vitest";
import { build, type Rollup } from "vite";

/**
 * The production build's JavaScript budget (issue 16): the first screen loads at most 250 KB
 * gzip, also when it is an app's overview (which draws charts), and chart types load only with
 * the screens that draw them (the Sankey with the journeys screen, never before).
 */
const BUDGET = 250 * 1024;
const root = decodeURIComponent(new URL("..", import.meta.url).pathname);

async function gzipSize(code: string): Promise<number> {
  const stream = new Blob([code]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

async function productionChunks(): Promise<Rollup.OutputChunk[]> {
  // Vitest runs with NODE_ENV=test, which would bundle Vue's development build.
  const environment = process.env.NODE_ENV;
  process.env.NODE_ENV = "production";
  const result = await build({
    root,
    configFile: `${root}vite.config.ts`,
    logLevel: "silent",
    build: { write: false },
  }).finally(() => {
    process.env.NODE_ENV = environment;
  });
  const outputs = Array.isArray(result) ? result : [result];
  return outputs.flatMap((output) => ("output" in output ? output.output : [])).filter(
    (item): item is Rollup.OutputChunk => item.type === "chunk",
  );
}

/** The chunks a page loads once `starts` are needed: them and their static imports. */
function closure(chunks: Rollup.OutputChunk[], starts: Rollup.OutputChunk[]): Rollup.OutputChunk[] {
  const byName = new Map(chunks.map((chunk) => [chunk.fileName, chunk]));
  const seen = new Map<string, Rollup.OutputChunk>();
  const visit = (chunk: Rollup.OutputChunk) => {
    if (seen.has(chunk.fileName)) return;
    seen.set(chunk.fileName, chunk);
    chunk.imports.forEach((name) => byName.has(name) && visit(byName.get(name)!));
  };
  starts.forEach(visit);
  return [...seen.values()];
}

function screen(chunks: Rollup.OutputChunk[], source: string): Rollup.OutputChunk {
  const chunk = chunks.find((item) => item.facadeModuleId?.endsWith(source));
  if (!chunk) throw new Error(`no chunk for ${source}`);
  return chunk;
}

async function total(chunks: Rollup.OutputChunk[]): Promise<number> {
  const sizes = await Promise.all(chunks.map((chunk) => gzipSize(chunk.code)));
  return sizes.reduce((sum, size) => sum + size, 0);
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

describe("production build", () => {
  it("keeps the first screen's JavaScript within 250 KB gzip, and chart code lazy", { timeout: 60_000 }, async () => {
    const chunks = await productionChunks();
    const entry = chunks.filter((chunk) => chunk.isEntry);
    expect(entry).toHaveLength(1);

    const firstScreen = closure(chunks, entry);
    const overview = closure(chunks, [
      ...entry,
      screen(chunks, "src/views/app/AppView.vue"),
      screen(chunks, "src/views/app/OverviewView.vue"),
    ]);
    const journeys = closure(chunks, [...entry, screen(chunks, "src/views/app/JourneysView.vue")]);
    const [first, withOverview, withJourneys] = await Promise.all([total(firstScreen), total(overview), total(journeys)]);
    console.info(
      `JavaScript gzip: first screen (login, apps) ${kb(first)}; app overview ${kb(withOverview)}; ` +
        `journeys ${kb(withJourneys)}; all chunks ${kb(await total(chunks))}`,
    );

    expect(first).toBeLessThanOrEqual(BUDGET);
    expect(withOverview).toBeLessThanOrEqual(BUDGET);
    const code = (list: Rollup.OutputChunk[]) => list.map((chunk) => chunk.code).join("\n");
    expect(code(firstScreen)).not.toContain("series.line");
    expect(code(overview)).not.toContain("series.sankey");
  });
});
