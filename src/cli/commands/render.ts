// Renders every host's config files from an inventory, locally and without touching any host:
// to review them (--out DIR) or to check that the inventory renders at all (--check).
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { loadInventory } from '../../inventory/load.ts';
import { renderInventory, type DesiredFile } from '../../render/desired.ts';
import { defineCommand } from '../command.ts';

/** Writes one host's files under dir/<absolute path on the host>, with the mode they get there. */
async function writeHostFiles(dir: string, files: DesiredFile[]): Promise<void> {
  for (const file of files) {
    const target = join(dir, file.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.content, { mode: file.mode });
    await chmod(target, file.mode); // writeFile's mode applies only to a new file, and through the umask
  }
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

export const render = defineCommand({
  name: 'render',
  args: '<inventory>',
  describe: "render every host's config files (my.cnf, iptables, Heartbeat, HAProxy) from an inventory",
  builder: (y) =>
    y
      .positional('inventory', { type: 'string', demandOption: true, describe: 'inventory YAML file' })
      .option('out', { type: 'string', describe: "write each host's files under DIR/<node name>/<absolute path on the host>" })
      .option('check', { type: 'boolean', describe: 'only check that the inventory loads and renders; write nothing' })
      .conflicts('out', 'check')
      .check((args) => {
        if (args.out === undefined && !args.check) throw new Error('give --out DIR to write the files, or --check to validate only');
        return true;
      })
      .example('$0 inventory/example.yml --out out/', 'then review out/db-01/etc/mysql/mariadb.conf.d/60-duet.cnf ...')
      .example('$0 inventory/example.yml --check', '')
      .epilogue('Exit codes: 0 rendered; 2 bad input (the inventory, a template, the options). No host is contacted.'),
  run: async (argv) => {
    // The positional is demanded, but its type does not reach argv.
    const inv = await loadInventory(argv.inventory as string);
    const rendered = renderInventory(inv);
    const fileCount = [...rendered.values()].reduce((n, files) => n + files.length, 0);
    const summary = `${count(fileCount, 'file')} for ${count(rendered.size, 'node')} in ${count(inv.pairs.length, 'pair')} of cluster ${inv.cluster}`;

    if (argv.out === undefined) {
      process.stdout.write(`OK: ${inv.file} renders ${summary}\n`);
      return;
    }
    const outDir = resolve(argv.out);
    for (const [nodeName, files] of rendered) await writeHostFiles(join(outDir, nodeName), files);
    process.stdout.write(`wrote ${summary} under ${outDir}\n`);
  },
});
