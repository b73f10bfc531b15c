// Builds dist/ once before the tests, so that the bundle tests and the size budget always
// measure the current sources.
import { buildAll } from "../build.mjs";

export default async function setup() {
  await buildAll();
}
