// readonly on|off NODE: set a node's read_only by hand, refusing a second writer unless --force.
import { readonly } from '../src/cli/commands/readonly.ts';
import { runScript } from '../src/cli/entry.ts';

runScript(readonly);
