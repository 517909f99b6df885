// A stand-in application for the swap tests, run inside app1 (node --import tsx writer.ts ...): it
// inserts one row at a time through the floating IP at a steady rate, on one connection that it
// replaces after any error, and prints which sequence numbers the server acknowledged. A failed
// insert is not retried with the same number (the server may have committed it before the error),
// so every acknowledged number must exist exactly once, and no number more than once.
// Bounded: stops after --seconds, or as soon as the stop file exists. The password comes on stdin.
// With --read it also reads each acknowledged row back (counted in reads); ackedAt has the time
// (ms since the epoch) of each acknowledgement, for the gaps a swap causes (bench/swap.ts).
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createConnection, type Connection } from 'mysql2/promise';

const { values } = parseArgs({
  options: {
    host: { type: 'string' },
    user: { type: 'string' },
    seconds: { type: 'string', default: '60' },
    'interval-ms': { type: 'string', default: '20' },
    'stop-file': { type: 'string' },
    read: { type: 'boolean', default: false },
  },
});
const password = readFileSync(0, 'utf8').trim();
const deadline = Date.now() + Number(values.seconds) * 1000;
const interval = Number(values['interval-ms']);

const acknowledged: number[] = [];
const ackedAt: number[] = [];
const reads = { ok: 0, failed: 0, wrong: 0 };
const failed: number[] = [];
const errors: Record<string, number> = {};
let connection: Connection | undefined;

for (let seq = 1; Date.now() < deadline && !(values['stop-file'] && existsSync(values['stop-file'])); seq++) {
  const tick = Date.now();
  let reading = false;
  try {
    connection ??= await createConnection({ host: values.host, user: values.user, password, database: 'app', connectTimeout: 1000 });
    await connection.query({ sql: 'INSERT INTO writes (seq) VALUES (?)', values: [seq], timeout: 2000 });
    acknowledged.push(seq);
    ackedAt.push(Date.now());
    if (values.read) {
      reading = true;
      const [rows] = await connection.query({ sql: 'SELECT COUNT(*) AS n FROM writes WHERE seq = ?', values: [seq], timeout: 2000 });
      if (Number((rows as Array<{ n: number }>)[0]?.n) === 1) reads.ok++;
      else reads.wrong++;
    }
  } catch (err) {
    if (reading) reads.failed++;
    else failed.push(seq);
    // errno, not code: mysql2 names MariaDB-only numbers after MySQL's (4151, account locked, is not a parser error).
    const { errno, code } = err as { errno?: number; code?: string };
    const key = String(errno ?? code ?? 'other');
    errors[key] = (errors[key] ?? 0) + 1;
    connection?.destroy();
    connection = undefined;
  }
  await new Promise((r) => setTimeout(r, Math.max(0, interval - (Date.now() - tick))));
}
connection?.destroy();
process.stdout.write(`${JSON.stringify({ acknowledged, failed, errors, ackedAt, reads })}\n`);
