import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, it } from 'node:test';
// @ts-expect-error plain JavaScript, read by the bin before tsx
import { bundleIsCurrent } from '../../bin/bundle-current.js';
import { COMMANDS } from '../../src/cli/commands/index.ts';
import { buildBundle } from '../../src/cli/bundle.ts';
import { packagePath } from '../../src/paths.ts';

describe("the bin's bundle", () => {
  it('builds: an entry and one module per command, ssh2 and mysql2 left as imports', async () => {
    const files = await buildBundle();
    const names = files.map((f) => basename(f.path));
    assert.ok(names.includes('duet.mjs'));
    for (const command of COMMANDS) assert.ok(names.some((n) => n.startsWith(`${command.name === 'drill' ? 'drill' : command.name}-`)), `a module for ${command.name}`);
    const all = files.map((f) => f.text ?? '').join('\n');
    assert.match(all, /from "ssh2"/);
    assert.match(all, /from "mysql2\/promise"/);
    assert.doesNotMatch(all, /from "(zod|yargs|yaml|handlebars|diff)"/, 'the pure-JavaScript packages are inside');
  });

  it('is what dist/ holds, when the bin would run dist/', async () => {
    if (!bundleIsCurrent(packagePath())) return; // no build, or sources newer: the bin runs the TypeScript
    for (const file of await buildBundle()) assert.equal(readFileSync(join(packagePath('dist'), basename(file.path)), 'utf8'), file.text, `${basename(file.path)} is current`);
  });

  it('is current only while its stamp is newer than every file under src/', () => {
    const root = mkdtempSync(join(tmpdir(), 'duet-bundle-'));
    try {
      mkdirSync(join(root, 'src/cli'), { recursive: true });
      writeFileSync(join(root, 'src/cli/a.ts'), '');
      assert.equal(bundleIsCurrent(root), false, 'no dist/');
      mkdirSync(join(root, 'dist'));
      writeFileSync(join(root, 'dist/duet.mjs'), '');
      const past = new Date(Date.now() - 60_000);
      utimesSync(join(root, 'src/cli/a.ts'), past, past);
      utimesSync(join(root, 'src/cli'), past, past);
      utimesSync(join(root, 'src'), past, past);
      assert.equal(bundleIsCurrent(root), false, 'no stamp');
      writeFileSync(join(root, 'dist/.built'), '');
      assert.equal(bundleIsCurrent(root), true);
      writeFileSync(join(root, 'package.json'), '{}');
      utimesSync(join(root, 'package.json'), past, past);
      assert.equal(bundleIsCurrent(root), true, 'package.json older than the build');
      const future = new Date(Date.now() + 60_000);
      utimesSync(join(root, 'package.json'), future, future);
      assert.equal(bundleIsCurrent(root), false, 'packages changed after the build');
      utimesSync(join(root, 'package.json'), past, past);
      utimesSync(join(root, 'src/cli/a.ts'), future, future);
      assert.equal(bundleIsCurrent(root), false, 'a source edited after the build');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
