// npm run schema: writes inventory/schema.json from the zod schema (src/inventory/schema.ts).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineCommand } from '../src/cli/command.ts';
import { runScript } from '../src/cli/entry.ts';
import { inventoryJsonSchemaText, SCHEMA_FILE } from '../src/inventory/json-schema.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));

runScript(
  defineCommand({
    name: 'schema',
    args: '',
    describe: 'regenerate inventory/schema.json',
    builder: (y) => y.usage('npm run schema\n\nWrites inventory/schema.json (the inventory\'s JSON Schema, for editors) from src/inventory/schema.ts.'),
    run: async () => {
      await writeFile(join(repo, SCHEMA_FILE), inventoryJsonSchemaText());
      process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
    },
  }),
);
