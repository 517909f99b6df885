// swap: move the writable role and the floating IP to the other node of a pair, safely.
import { swap } from '../src/cli/commands/swap.ts';
import { runScript } from '../src/cli/entry.ts';

runScript(swap);
