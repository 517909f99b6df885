// verify: prove that every pair of an inventory replicates both ways, and say what is wrong if not.
import { verify } from '../src/cli/commands/verify.ts';
import { runScript } from '../src/cli/entry.ts';

runScript(verify);
