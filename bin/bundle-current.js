// Is dist/ (src/ bundled by scripts/build-bin.ts) current? Only when its stamp is newer than every
// file under src/ and than package.json and node_modules/.package-lock.json: an edited, added or
// checked-out source file, or an npm install, makes the bin run the TypeScript itself instead, so a
// stale bundle is never run. Plain JavaScript: the bin reads it before tsx.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const BUNDLE_ENTRY = 'dist/duet.mjs';
export const BUNDLE_STAMP = 'dist/.built';

/** Newest mtime (ms) of the files under dir, recursively. */
export function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs, entry.isDirectory() ? statSync(path).mtimeMs : 0);
  }
  return newest;
}

/** Besides src/: the packages bundled in (an npm install that changed them is newer than the build). */
const ALSO_CHECKED = ['package.json', 'node_modules/.package-lock.json'];

/** True when root/dist holds a bundle built after the last change under root/src and to the packages. */
export function bundleIsCurrent(root) {
  try {
    statSync(join(root, BUNDLE_ENTRY));
    const built = statSync(join(root, BUNDLE_STAMP)).mtimeMs;
    if (built <= newestMtime(join(root, 'src'))) return false;
    return ALSO_CHECKED.every((file) => {
      try {
        return built > statSync(join(root, file)).mtimeMs;
      } catch {
        return true; // not there (no npm install yet): nothing to be newer than
      }
    });
  } catch {
    return false;
  }
}
