// Where the package's own files are, from one place: src/*.ts run by tsx and the bundle
// (dist/*.mjs, scripts/build-bin.ts) both sit one folder below the package root.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (the folder with package.json, templates/, src/). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** A file or folder of the package, by its path from the root. */
export function packagePath(...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}
