// Swap hooks on the controller: the documented environment, the timeout, and the policy (a failing
// pre_swap refuses the swap before any change; a failing post_swap only warns).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ReplicationError } from '../../src/errors.ts';
import { hookFailure, postSwapHook, preSwapHook, runHook, swapHookEnv } from '../../src/ops/hooks.ts';
import { sampleInventory } from './helpers/sample-inventory.ts';

const inv = sampleInventory();
const pair = inv.pairs[0]!;
const [db1, db2] = pair.nodes;

test('swapHookEnv: pair, old and new writer, floating IP; nothing secret', () => {
  const env = swapHookEnv(inv, pair, db1, db2, 'pre_swap');
  assert.deepEqual(env, {
    DUET_HOOK: 'pre_swap',
    DUET_CLUSTER: 'shop',
    DUET_PAIR: 'main',
    DUET_OLD_WRITER: 'db-01',
    DUET_OLD_WRITER_ADDRESS: db1.address,
    DUET_NEW_WRITER: 'db-02',
    DUET_NEW_WRITER_ADDRESS: db2.address,
    DUET_VIP: pair.vip.address,
  });
  const text = JSON.stringify(env);
  for (const secret of inv.secrets) assert.ok(!text.includes(secret.reveal()));
});

test('runHook: the command sees the variables and runs in the given folder; output is echoed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'duet-hook-'));
  const echoed: string[] = [];
  const result = await runHook({ run: 'echo "$DUET_PAIR $DUET_NEW_WRITER" > out && echo done', timeoutSeconds: 10 }, { DUET_PAIR: 'main', DUET_NEW_WRITER: 'db2' }, dir, (l) => echoed.push(l));
  assert.deepEqual(result, { code: 0, timedOut: false, tail: 'done' });
  assert.equal(readFileSync(join(dir, 'out'), 'utf8'), 'main db2\n');
  assert.deepEqual(echoed, ['done']);
});

test('runHook: a hook past its timeout is killed with its children', async () => {
  const started = Date.now();
  const result = await runHook({ run: 'sleep 30 & sleep 30', timeoutSeconds: 1 }, {}, tmpdir(), () => {});
  assert.equal(result.timedOut, true);
  assert.ok(Date.now() - started < 5000);
  assert.match(hookFailure('pre_swap', { run: 'x', timeoutSeconds: 1 }, result)!, /did not finish within 1 s and was killed/);
});

test('pre_swap failing refuses the swap (exit 6, nothing changed); post_swap failing only warns', async () => {
  const withHooks = { ...inv, file: join(mkdtempSync(join(tmpdir(), 'duet-hook-')), 'inv.yml'), hooks: { preSwap: { run: 'echo "drain failed" >&2; exit 3', timeoutSeconds: 5 }, postSwap: { run: 'exit 1', timeoutSeconds: 5 } } };
  await assert.rejects(preSwapHook(withHooks, pair, db1, db2, () => {}), (err: unknown) => {
    assert.ok(err instanceof ReplicationError);
    assert.equal(err.exitCode, 6);
    assert.match(err.message, /refused, nothing was changed: the pre_swap hook exited with status 3: drain failed/);
    return true;
  });
  assert.match((await postSwapHook(withHooks, pair, db1, db2, () => {}))!, /^WARNING: the post_swap hook exited with status 1; the swap stands$/);
  // No hooks: nothing runs.
  await preSwapHook(inv, pair, db1, db2, () => assert.fail('no hook to run'));
  assert.equal(await postSwapHook(inv, pair, db1, db2, () => {}), undefined);
});
