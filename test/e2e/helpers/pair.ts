// Looking at (and poking) the fixture pair from a test: shell and SQL on a node, who holds the
// floating IP, and bounded waits. Everything goes to the real hosts.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FIXTURE_VIP } from '../../../src/fixtures/index.ts';
import { duet, REPO_ROOT } from './cli.ts';
import type { FixtureHandle } from './fixtures.ts';

export const INVENTORY = join(REPO_ROOT, 'inventory/fixtures.yml');
export const DB_NODES = ['db1', 'db2'] as const;

export interface PairProbe {
  sh(host: string, command: string, input?: string): Promise<string>;
  /** One statement as root through the node's socket; rows tab-separated, no header. */
  sql(host: string, statement: string): Promise<string>;
  vipHolders(): Promise<string[]>;
  readOnly(host: string): Promise<boolean>;
  /** Polls `check` every 200 ms until it returns true; fails the test after timeoutMs. */
  waitFor(what: string, check: () => Promise<boolean>, timeoutMs?: number): Promise<void>;
  provision(): Promise<void>;
}

export function pairProbe(fx: FixtureHandle): PairProbe {
  const sh = async (host: string, command: string, input?: string) => {
    const result = await fx.ssh(host, command, input === undefined ? {} : { input });
    assert.equal(result.code, 0, `${host}: \`${command}\` exited ${result.code}: ${result.stderr}`);
    return result.stdout;
  };
  const sql = (host: string, statement: string) => sh(host, 'mariadb -N --batch', statement);
  return {
    sh,
    sql,
    async vipHolders() {
      const holders: string[] = [];
      for (const host of DB_NODES) {
        const out = await fx.exec(host, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
        if (out.stdout.includes(` ${FIXTURE_VIP}/`)) holders.push(host);
      }
      return holders;
    },
    readOnly: async (host) => (await sql(host, 'SELECT @@read_only')).trim() === '1',
    async waitFor(what, check, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!(await check())) {
        if (Date.now() > deadline) assert.fail(`gave up after ${timeoutMs / 1000} s waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async provision() {
      const result = await duet('provision', [INVENTORY, '--yes']);
      assert.equal(result.code, 0, `provision failed:\n${result.stdout}\n${result.stderr}`);
    },
  };
}
