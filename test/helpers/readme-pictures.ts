/**
 * Where the browser tests put the pictures the README shows. A test run writes them beside the
 * other artefacts (test-artifacts/readme/), so running the suite never changes committed files;
 * `MXSPOOL_README_PICTURES=1 npx vitest run test/browser` writes them to docs/ to refresh the
 * README's pictures on purpose.
 */
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");

export function readmePicture(name: string): string {
  const dir = process.env.MXSPOOL_README_PICTURES === "1" ? path.join(root, "docs") : path.join(root, "test-artifacts/readme");
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}
