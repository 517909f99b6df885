#!/usr/bin/env node
// `duet <command>`: the package's bin. It runs dist/duet.mjs, src/ bundled by `npm run build` (npm ci
// runs it as `prepare`), when that is newer than every file under src/ (bin/bundle-current.js);
// otherwise (a clone being edited, no build) the TypeScript itself through tsx's loader, in this
// process. Either way the same code; the bundle only starts faster. DUET_NO_BUNDLE=1 forces tsx.
import { fileURLToPath } from 'node:url';
import { BUNDLE_ENTRY, bundleIsCurrent } from './bundle-current.js';

const root = fileURLToPath(new URL('../', import.meta.url));
if (process.env.DUET_NO_BUNDLE !== '1' && bundleIsCurrent(root)) {
  const { runDuet } = await import(new URL(`../${BUNDLE_ENTRY}`, import.meta.url).href);
  runDuet();
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { runDuet } = await import('../src/cli/entry.ts');
  runDuet();
}
