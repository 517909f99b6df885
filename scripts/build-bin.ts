// npm run build (and npm ci, as `prepare`): bundles src/ for the bin into dist/ (one module per
// command, loaded when named; npm packages stay imports). bin/duet.js runs it while it is newer than
// every file under src/ (bin/bundle-current.js). npx tsx scripts/build-bin.ts [--out DIR]
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildBundle } from '../src/cli/bundle.ts';
import { packagePath } from '../src/paths.ts';

const out = packagePath('dist');
// The stamp gets the time the build started: a source saved during the build is newer than it.
const started = new Date();
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const files = await buildBundle(out);
const stamp = join(out, '.built');
writeFileSync(stamp, `${started.toISOString()}\n`);
utimesSync(stamp, started, started);
process.stderr.write(`build: ${files.length} file(s) in ${out}\n`);
