// The drill's application: run by the drill as its own process on an application host's network
// (node --import tsx client.ts ...), it writes one row at a time through the floating IP and reads
// them back, the way an application with idempotency keys would: each write has a unique key (seq),
// and after an error the SAME key is tried again (on a new connection) until the server acknowledges
// it; a duplicate-key answer means an earlier attempt did commit, which counts as acknowledged.
// Every acknowledgement is printed at once as a JSON line {"ack": seq, "t": ms}; errors as
// {"error": code, "t": ms}. Bounded: stops after --seconds or once the stop file exists. The
// password comes on stdin, never in the arguments.
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createConnection, type Connection } from 'mysql2/promise';

const ER_DUP_ENTRY = 1062;

const { values } = parseArgs({
  options: {
    host: { type: 'string' },
    user: { type: 'string' },
    table: { type: 'string' },
    run: { type: 'string' },
    seconds: { type: 'string', default: '600' },
    'interval-ms': { type: 'string', default: '20' },
    'stop-file': { type: 'string' },
  },
});
const password = readFileSync(0, 'utf8').trim();
const deadline = Date.now() + Number(values.seconds) * 1000;
const interval = Number(values['interval-ms']);
const stopped = () => Date.now() >= deadline || (values['stop-file'] !== undefined && existsSync(values['stop-file']));
const emit = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

let connection: Connection | undefined;
const connect = async () =>
  (connection ??= await createConnection({ host: values.host, user: values.user, password, database: 'duet', connectTimeout: 1000 }));

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
      if (stopped()) break;
      await new Promise((r) => setTimeout(r, Math.max(0, interval - (Date.now() - tick))));
    }
  }
}
connection?.destroy();
