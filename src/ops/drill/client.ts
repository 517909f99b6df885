// The drill's application: run by the drill as its own process on an application host's network
// (node --import tsx client.ts ...), it writes one row at a time through the floating IP and reads
// them back, the way an application with idempotency keys would: each write has a unique key (seq),
// and after an error the SAME key is tried again (on a new connection) until the server acknowledges
// it; a duplicate-key answer means an earlier attempt did commit, which counts as acknowledged.
// Every acknowledgement is printed at once as a JSON line {"ack": seq, "t": ms}; errors as
// {"error": code, "t": ms}. Bounded: stops after --seconds or once the stop file exists. The
// password comes on stdin, never in the arguments.
// --probe SEQ: the write-up's "run a query" instead: a fresh connection each attempt (every 200 ms)
// runs a SELECT and writes key SEQ, until one attempt succeeds or --seconds pass; prints
// {"query": "ok", "first": ms, "t": ms, "tries": n} (or "query": "failed") and exits.
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createConnection, type Connection } from 'mysql2/promise';

const ER_DUP_ENTRY = 1062;

const { values } = parseArgs({
  options: {
    host: { type: 'string' },
    port: { type: 'string', default: '3306' },
    user: { type: 'string' },
    table: { type: 'string' },
    run: { type: 'string' },
    seconds: { type: 'string', default: '600' },
    'interval-ms': { type: 'string', default: '20' },
    'stop-file': { type: 'string' },
    // After an error, go on with a new key instead of retrying the same one.
    'fresh-keys': { type: 'boolean', default: false },
    probe: { type: 'string' },
  },
});
const password = readFileSync(0, 'utf8').trim();
const deadline = Date.now() + Number(values.seconds) * 1000;
const interval = Number(values['interval-ms']);
const stopped = () => Date.now() >= deadline || (values['stop-file'] !== undefined && existsSync(values['stop-file']));
const emit = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

let connection: Connection | undefined;
// A connection attempt is given 250 ms (a server on the LAN answers in well under that): an attempt
// whose SYN went to a node that no longer answers is given up quickly and the next one reaches the
// new holder of the floating IP, so the outage measured is the pair's, not a 1 s connect timeout's.
const open = () => createConnection({ host: values.host, port: Number(values.port), user: values.user, password, database: 'duet', connectTimeout: 250 });
const connect = async () => (connection ??= await open());

if (values.probe !== undefined) {
  const first = Date.now();
  let tries = 0;
  let last = '';
  while (Date.now() < deadline) {
    tries++;
    const tick = Date.now();
    let session: Connection | undefined;
    try {
      session = await open();
      await session.query({ sql: `SELECT COUNT(*) FROM ${values.table} WHERE run = ?`, values: [values.run], timeout: 2000 });
      try {
        await session.query({ sql: `INSERT INTO ${values.table} (seq, run) VALUES (?, ?)`, values: [Number(values.probe), values.run], timeout: 2000 });
      } catch (err) {
        if ((err as { errno?: number }).errno !== ER_DUP_ENTRY) throw err;
      }
      emit({ query: 'ok', first, t: Date.now(), tries });
      session.destroy();
      process.exit(0);
    } catch (err) {
      const { errno, code } = err as { errno?: number; code?: string };
      last = String(errno ?? code ?? 'other');
      session?.destroy();
    }
    await new Promise((r) => setTimeout(r, Math.max(0, 200 - (Date.now() - tick))));
  }
  emit({ query: 'failed', first, t: Date.now(), tries, error: last });
  process.exit(0);
}

for (let seq = 1; !stopped(); seq++) {
  // The same seq until it is acknowledged (or the drill ends).
  for (;;) {
    const tick = Date.now();
    try {
      const session = await connect();
      try {
        await session.query({ sql: `INSERT INTO ${values.table} (seq, run) VALUES (?, ?)`, values: [seq, values.run], timeout: 2000 });
      } catch (err) {
        if ((err as { errno?: number }).errno !== ER_DUP_ENTRY) throw err;
      }
      if (seq % 10 === 0) await session.query({ sql: `SELECT COUNT(*) FROM ${values.table} WHERE run = ?`, values: [values.run], timeout: 2000 });
      emit({ ack: seq, t: Date.now() });
      await new Promise((r) => setTimeout(r, Math.max(0, interval - (Date.now() - tick))));
      break;
    } catch (err) {
      const { errno, code } = err as { errno?: number; code?: string };
      emit({ error: String(errno ?? code ?? 'other'), t: Date.now() });
      connection?.destroy();
      connection = undefined;
      await new Promise((r) => setTimeout(r, Math.max(0, interval - (Date.now() - tick))));
      if (stopped() || values['fresh-keys']) break;
    }
  }
}
connection?.destroy();
