// npx tsx scripts/fixtures.ts up|down|status|exec HOST -- CMD...|crash|boot|partition|heal|kill HOST
import { fixtures } from '../src/cli/commands/fixtures.ts';
import { runScript } from '../src/cli/entry.ts';

runScript(fixtures);
