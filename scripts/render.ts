// Renders every host's config files from an inventory, locally and without touching any host:
import { render } from '../src/cli/commands/render.ts';
import { runScript } from '../src/cli/entry.ts';

runScript(render);
