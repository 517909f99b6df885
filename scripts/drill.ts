// drill: the failover drill on a pair (every fault on the fixture hosts; stop/start elsewhere).
import { drillCommand } from '../src/cli/commands/drill.ts';
import { runScript } from '../src/cli/entry.ts';

runScript(drillCommand);
