#!/usr/bin/env node
// `duet <command>`: the package's bin. duet is TypeScript run by tsx (a runtime dependency), so this
// registers tsx's loader in this process and imports the command table; no build step, no child process.
import { register } from 'tsx/esm/api';

register();
const { runDuet } = await import('../src/cli/entry.ts');
runDuet();
