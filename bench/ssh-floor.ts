// The floor under any fleet command: one SSH login per node of the inventory, all at once, each
// running `true`, through duet's own transport (host keys checked as always), and nothing else.
// Prints the seconds from the first connection to the last exit (module loading not counted), as
// one JSON line. Run by bench/fleet.ts beside the commands it measures.
// npx tsx bench/ssh-floor.ts INVENTORY
import { loadInventory } from '../src/inventory/load.ts';
import { allNodes } from '../src/inventory/model.ts';
import { HostPool } from '../src/transport/pool.ts';

const file = process.argv[2];
if (!file) throw new Error('usage: ssh-floor.ts INVENTORY');
const inv = await loadInventory(file);
const pool = new HostPool(inv.ssh);
const started = performance.now();
await Promise.all(allNodes(inv).map(async ({ node }) => (await pool.get(node)).run('true')));
const seconds = (performance.now() - started) / 1000;
await pool.closeAll();
process.stdout.write(`${JSON.stringify({ logins: allNodes(inv).length, seconds: Number(seconds.toFixed(2)) })}\n`);
