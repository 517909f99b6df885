// The subcommands of `duet`, one line each. A new command is a module in this folder exporting a
// DuetCommand, a line here, and a two-line scripts/<name>.ts (see scripts/status.ts).
import type { DuetCommand } from '../command.ts';
import { drillCommand } from './drill.ts';
import { fixtures } from './fixtures.ts';
import { provision } from './provision.ts';
import { readonly } from './readonly.ts';
import { render } from './render.ts';
import { replication } from './replication.ts';
import { status } from './status.ts';
import { swap } from './swap.ts';
import { verify } from './verify.ts';

export const COMMANDS: readonly DuetCommand[] = [
  provision,
  verify,
  status,
  swap,
  readonly,
  replication,
  render,
  fixtures,
  drillCommand,
];
