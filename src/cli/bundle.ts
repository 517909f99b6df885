// The bin's bundle (scripts/build-bin.ts): src/cli/entry.ts and what it loads, one chunk per lazily
// loaded command, npm packages left as imports (resolved from node_modules at run time). dist/ sits
// one folder below the package root, as src/ does, so src/paths.ts finds templates/ from either.
import { build } from 'esbuild';
import { packagePath } from '../paths.ts';

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
    packages: 'external',
    outExtension: { '.js': '.mjs' },
    chunkNames: '[name]-[hash]',
    metafile: true,
    logLevel: 'silent',
  });
  if (result.outputFiles) return result.outputFiles.map((file) => ({ path: file.path, bytes: file.contents.length, text: file.text }));
  return Object.entries(result.metafile.outputs).map(([path, output]) => ({ path, bytes: output.bytes }));
}
