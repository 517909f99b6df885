// replication start|stop NODE: the replica threads of one node (it replicates from its peer).
import { replication } from '../src/cli/commands/replication.ts';
import { runScript } from '../src/cli/entry.ts';

runScript(replication);
