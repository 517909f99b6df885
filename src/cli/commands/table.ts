// The commands of `duet` by name, each module loaded only when needed: `duet provision ...` loads
// provision's module (and what it imports) and no other; `duet --help` and a bad command load all.
// The same names, in the same order, as COMMANDS in index.ts (a unit test checks).
import type { DuetCommand } from '../command.ts';

export const COMMAND_LOADERS: ReadonlyArray<{ name: string; load: () => Promise<DuetCommand> }> = [
  { name: 'provision', load: async () => (await import('./provision.ts')).provision },
  { name: 'verify', load: async () => (await import('./verify.ts')).verify },
  { name: 'status', load: async () => (await import('./status.ts')).status },
  { name: 'swap', load: async () => (await import('./swap.ts')).swap },
  { name: 'readonly', load: async () => (await import('./readonly.ts')).readonly },
  { name: 'replication', load: async () => (await import('./replication.ts')).replication },
  { name: 'render', load: async () => (await import('./render.ts')).render },
  { name: 'fixtures', load: async () => (await import('./fixtures.ts')).fixtures },
  { name: 'drill', load: async () => (await import('./drill.ts')).drillCommand },
];

/** The command `args[0]` names, alone; every command when it names none (help, completion, a typo). */
export async function commandsFor(args: readonly string[]): Promise<DuetCommand[]> {
  const named = COMMAND_LOADERS.find((c) => c.name === args[0]);
  return named ? [await named.load()] : Promise.all(COMMAND_LOADERS.map((c) => c.load()));
}
