import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServerGreeting } from '../../src/ops/pair-state.ts';
import type { Finding } from '../../src/ops/verify-checks.ts';
import { exitCodeFor, formatReport, type VerifyReport } from '../../src/ops/verify.ts';

/** A MySQL packet: 3-byte length, sequence 0, payload. */
function packet(payload: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUIntLE(payload.length, 0, 3);
  return Buffer.concat([head, payload]);
}

// The start of the handshake the fixture MariaDB 10.11 sent (connection id 13), then the scramble
// and capabilities, which the parser does not read.
const HANDSHAKE = packet(
  Buffer.concat([Buffer.from([0x0a]), Buffer.from('5.5.5-10.11.19-MariaDB-0+deb12u1-log\0', 'latin1'), Buffer.from([0x0d, 0, 0, 0]), Buffer.from(';~)O1GP?\0', 'latin1'), Buffer.alloc(40)]),
);

test('parseServerGreeting reads the version and connection id of a handshake', () => {
  assert.deepEqual(parseServerGreeting(HANDSHAKE), { kind: 'greeting', serverVersion: '5.5.5-10.11.19-MariaDB-0+deb12u1-log', connectionId: 13 });
});

test('parseServerGreeting waits for a whole packet', () => {
  assert.equal(parseServerGreeting(HANDSHAKE.subarray(0, 3)), undefined);
  assert.equal(parseServerGreeting(HANDSHAKE.subarray(0, 30)), undefined);
});

test('parseServerGreeting reads an error packet, with or without a SQLSTATE', () => {
  const message = "Host 'db2' is not allowed to connect to this MariaDB server";
  const plain = packet(Buffer.concat([Buffer.from([0xff, 0x6a, 0x04]), Buffer.from(message)]));
  assert.deepEqual(parseServerGreeting(plain), { kind: 'error', code: 1130, message });
  const withState = packet(Buffer.concat([Buffer.from([0xff, 0x15, 0x04]), Buffer.from(`#28000Access denied`)]));
  assert.deepEqual(parseServerGreeting(withState), { kind: 'error', code: 1045, message: 'Access denied' });
});

test('parseServerGreeting refuses a packet that is neither a handshake nor an error', () => {
  // Protocol 9 (MySQL 3.x): a whole packet, but not one duet can read.
  assert.equal(parseServerGreeting(packet(Buffer.from('\x093.23.58\0', 'latin1')))?.kind, 'no answer');
});

function report(findings: Finding[], unreachable: string[] = []): VerifyReport {
  const count = (s: Finding['status']) => findings.filter((f) => f.status === s).length;
  const canaryMs: Record<string, number> = unreachable.length > 0 ? {} : { 'db1 -> db2': 7 };
  return { inventory: '/srv/inv.yml', findings, summary: { ok: count('ok'), warn: count('warn'), fail: count('fail'), unreachable, elapsedMs: 1234, canaryMs } };
}

const ok: Finding = { check: 'canary', pair: 'main', host: 'db1', status: 'ok', message: 'db1 -> db2: a row written on db1 arrived on db2 in 7 ms', figures: { roundTripMs: 7 } };
const warn: Finding = { check: 'consistency', pair: 'main', status: 'warn', message: 'checksums differ for app.t, but the pair kept writing during 3 attempt(s)', hint: 'run verify again' };
const fail: Finding = { check: 'replication', pair: 'main', host: 'db2', status: 'fail', message: 'SQL thread stopped without an error (STOP SLAVE by hand?)', hint: 'START SLAVE SQL_THREAD on db2' };

test('the report puts failures first, one line each, then a summary with the canary round trips', () => {
  assert.equal(
    formatReport(report([ok, warn, fail])),
    [
      'FAIL replication db2: SQL thread stopped without an error (STOP SLAVE by hand?)  (hint: START SLAVE SQL_THREAD on db2)',
      'WARN consistency pair main: checksums differ for app.t, but the pair kept writing during 3 attempt(s)  (hint: run verify again)',
      'OK   canary      db1: db1 -> db2: a row written on db1 arrived on db2 in 7 ms',
      'verify FAILED: 1 failed, 1 warning(s), 1 ok in 1.2 s; canary db1 -> db2 7 ms',
    ].join('\n'),
  );
});

test('exit codes: 0 passed (warnings allowed), 1 a check failed, 3 a host unreachable over SSH', () => {
  assert.equal(exitCodeFor(report([ok, warn])), 0);
  assert.equal(exitCodeFor(report([ok, fail])), 1);
  const unreachable: Finding = { check: 'ssh', pair: 'main', host: 'db2', status: 'fail', message: 'unreachable: connection refused' };
  assert.equal(exitCodeFor(report([unreachable], ['db2'])), 3);
  assert.match(formatReport(report([unreachable], ['db2'])), /^verify UNREACHABLE: db2: 1 failed/m);
});
