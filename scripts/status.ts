// status: each pair's writer first, then the read-only node, and loud warnings for what is wrong.
import { status } from '../src/cli/commands/status.ts';
import { runScript } from '../src/cli/entry.ts';

runScript(status);
