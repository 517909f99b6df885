import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMMANDS } from '../../src/cli/commands/index.ts';
import { COMMAND_LOADERS, commandsFor } from '../../src/cli/commands/table.ts';

describe('lazy command table', () => {
  it('names the commands of COMMANDS, in order, and loads the same modules', async () => {
    assert.deepEqual(COMMAND_LOADERS.map((c) => c.name), COMMANDS.map((c) => c.name));
    for (const [i, loader] of COMMAND_LOADERS.entries()) assert.equal(await loader.load(), COMMANDS[i]);
  });

  it('loads only the named command, and all of them for anything else', async () => {
    assert.deepEqual((await commandsFor(['status', 'x.yml'])).map((c) => c.name), ['status']);
    assert.equal((await commandsFor(['--help'])).length, COMMANDS.length);
    assert.equal((await commandsFor([])).length, COMMANDS.length);
  });
});
