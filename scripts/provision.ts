// provision: take the hosts of an inventory to running master-master pairs, idempotently.
import { provision } from '../src/cli/commands/provision.ts';
import { runScript } from '../src/cli/entry.ts';

runScript(provision);
