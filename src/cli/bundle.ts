// The bin's bundle (scripts/build-bin.ts): src/cli/entry.ts and what it loads, one chunk per lazily
// loaded command, with the pure-JavaScript packages inside (yargs, zod, yaml, handlebars, diff: one
// file read instead of hundreds, about 0.15 s of start-up); ssh2 and mysql2 stay imports from
// node_modules (native bindings, files read by path). dist/ sits one folder below the package root,
// as src/ does, so src/paths.ts finds templates/ from either.
import { build } from 'esbuild';
import { packagePath } from '../paths.ts';

/** Left out of the bundle, imported from node_modules at run time. */
export const EXTERNAL = ['ssh2', 'mysql2', 'mysql2/*', 'esbuild', 'tsx', 'tsx/*'];

/** Builds into outdir (or in memory without it); returns the files' paths and, in memory, their text. */
export async function buildBundle(outdir?: string): Promise<Array<{ path: string; bytes: number; text?: string }>> {
  const result = await build({
    entryPoints: { duet: packagePath('src/cli/entry.ts') },
    outdir: outdir ?? packagePath('dist'),
    write: outdir !== undefined,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    // CommonJS packages inside (handlebars) call require() for Node's own modules.
    banner: { js: "import { createRequire as __duetCreateRequire } from 'node:module';\nconst require = __duetCreateRequire(import.meta.url);" },
    outExtension: { '.js': '.mjs' },
    chunkNames: '[name]-[hash]',
    metafile: true,
    logLevel: 'silent',
  });
  if (result.outputFiles) return result.outputFiles.map((file) => ({ path: file.path, bytes: file.contents.length, text: file.text }));
  return Object.entries(result.metafile.outputs).map(([path, output]) => ({ path, bytes: output.bytes }));
}
