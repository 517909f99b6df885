// inventory/schema.json: the inventory's JSON Schema, generated from the zod schema (schema.ts), for
// editors (`# yaml-language-server: $schema=./schema.json`) and other tools. It describes the shape
// only: the cross-field rules of validate.ts (unique server ids, the VIP's subnet...) stay duet's.
// Regenerate with `npm run schema`; a unit test fails while the file is out of date.
import { z } from 'zod';
import { inventorySchema, secretRefSchema } from './schema.ts';

export const SCHEMA_FILE = 'inventory/schema.json';

export function inventoryJsonSchema(): Record<string, unknown> {
  // io 'input': what a user writes, so fields with defaults are optional.
  const generated = z.toJSONSchema(inventorySchema, {
    io: 'input',
    target: 'draft-2020-12',
    override: (ctx) => {
      // The secret reference's refinement (exactly one of env and file), which zod cannot export.
      if (ctx.zodSchema === secretRefSchema) ctx.jsonSchema.oneOf = [{ required: ['env'] }, { required: ['file'] }];
    },
  }) as Record<string, unknown>;
  return {
    ...generated,
    $id: 'https://github.com/duet/duet/inventory/schema.json',
    title: 'duet inventory',
    description: 'One inventory file: MySQL/MariaDB master-master pairs with a Heartbeat floating IP. Generated from src/inventory/schema.ts (npm run schema).',
  };
}

/** The file's text: 2-space JSON and a final newline. */
export function inventoryJsonSchemaText(): string {
  return `${JSON.stringify(inventoryJsonSchema(), null, 2)}\n`;
}
