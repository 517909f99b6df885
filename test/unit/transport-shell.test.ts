import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { remoteCommand, shellQuote } from '../../src/transport/shell.ts';

test('shellQuote leaves plain words alone and single-quotes the rest', () => {
  assert.equal(shellQuote('/etc/mysql/conf.d/duet.cnf'), '/etc/mysql/conf.d/duet.cnf');
  assert.equal(shellQuote(''), "''");
  assert.equal(shellQuote('a b'), "'a b'");
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
});

test('shellQuote round-trips hostile strings through a real sh', () => {
  for (const word of ["it's", '$(id) `id` $HOME', 'a\nb', '"; rm -rf / #', "'''", '*?[]{}~!&|<>']) {
    assert.equal(execFileSync('sh', ['-c', `printf %s ${shellQuote(word)}`], { encoding: 'utf8' }), word);
  }
});

test('remoteCommand wraps in sudo -n sh -c only for a non-root user with sudo', () => {
  const command = "systemctl restart mariadb && echo 'ok' > /tmp/x";
  assert.equal(remoteCommand(command, { user: 'root', sudo: true }), command);
  assert.equal(remoteCommand(command, { user: 'deploy', sudo: false }), command);
  const wrapped = remoteCommand(command, { user: 'deploy', sudo: true });
  assert.equal(wrapped, `sudo -n sh -c 'systemctl restart mariadb && echo '\\''ok'\\'' > /tmp/x'`);
  // What sh -c receives is the original command, byte for byte.
  const received = execFileSync('sh', ['-c', wrapped.replace(/^sudo -n sh -c/, 'printf %s')], { encoding: 'utf8' });
  assert.equal(received, command);
});
