import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  configValues,
  expandTokens,
  hostMatches,
  parseJump,
  parseSshConfig,
  resolveSshHost,
  splitLine,
  type IncludedFile,
} from '../../src/transport/ssh-config.ts';

const HOME = '/home/op';
const ctx = { home: HOME, localUser: 'op' };

function parse(text: string, includes: Record<string, IncludedFile[]> = {}) {
  const { config, problems } = parseSshConfig(text, '/home/op/.ssh/config', { home: HOME, readInclude: (p) => includes[p] ?? [] });
  assert.deepEqual(problems, []);
  return config;
}

test('splitLine: blanks, quotes, escapes, comments', () => {
  assert.deepEqual(splitLine('  Host a b\t c  '), ['Host', 'a', 'b', 'c']);
  assert.deepEqual(splitLine('IdentityFile "/path with space/key" # comment'), ['IdentityFile', '/path with space/key']);
  assert.deepEqual(splitLine("User 'o\\'p'"), ['User', "o'p"]);
  assert.deepEqual(splitLine('# only a comment'), []);
  assert.equal(splitLine('IdentityFile "/open'), undefined);
});

test('hostMatches: wildcards, negation, case', () => {
  assert.ok(hostMatches(['db*'], 'db1'));
  assert.ok(hostMatches(['db?'], 'DB2'));
  assert.ok(!hostMatches(['db?'], 'db10'));
  assert.ok(hostMatches(['*', '!bastion'], 'db1'));
  assert.ok(!hostMatches(['*', '!bastion'], 'bastion'));
  // A negated pattern alone matches nothing (ssh needs a positive match).
  assert.ok(!hostMatches(['!bastion'], 'db1'));
  assert.ok(hostMatches(['a.example', '*.shop.example'], 'db1.shop.example'));
  assert.ok(!hostMatches(['*.shop.example'], 'db1xshop.example'));
});

test('first value wins per keyword, Host * at the end gives defaults, Keyword=value spelled both ways', () => {
  const config = parse(
    [
      'User early            # before any Host: applies to every host',
      'Host db1',
      '  HostName 192.0.2.11',
      '  Port=2222',
      'Host db* !db3',
      '  HostName ignored-for-db1',
      '  User = dba',
      '  IdentityFile ~/.ssh/db_key',
      'Host *',
      '  Port 22',
      '  IdentityFile ~/.ssh/id_ed25519',
    ].join('\n'),
  );
  const db1 = configValues(config, 'db1');
  assert.equal(db1.hostName?.value, '192.0.2.11');
  assert.equal(db1.port?.value, '2222');
  assert.equal(db1.port?.line, 4);
  assert.equal(db1.user?.value, 'early');
  assert.equal(db1.identityFile?.value, '~/.ssh/db_key');
  const db3 = configValues(config, 'db3');
  assert.equal(db3.hostName, undefined);
  assert.equal(db3.identityFile?.value, '~/.ssh/id_ed25519');
  assert.equal(db3.port?.value, '22');
});

test('Match blocks never apply; unknown keywords are skipped', () => {
  const config = parse(['Match host db1', '  User matched', 'Host *', '  StrictHostKeyChecking no', '  User plain'].join('\n'));
  assert.equal(configValues(config, 'db1').user?.value, 'plain');
});

test('Include: relative to the including folder, spliced in place, scoped by the enclosing Host', () => {
  const config = parse(['Include conf.d/*', 'Host db1', '  Include db1.conf', '  User after-include', 'Host *', '  User fallback'].join('\n'), {
    '/home/op/.ssh/conf.d/*': [{ file: '/home/op/.ssh/conf.d/a', text: 'Host db2\n  HostName 192.0.2.12\n' }],
    '/home/op/.ssh/db1.conf': [{ file: '/home/op/.ssh/db1.conf', text: 'Port 2201\nHost db2\n  Port 9\n' }],
  });
  assert.equal(configValues(config, 'db2').hostName?.value, '192.0.2.12');
  // db1.conf's Host db2 is inside Host db1: it applies to neither.
  assert.equal(configValues(config, 'db2').port, undefined);
  assert.equal(configValues(config, 'db1').port?.value, '2201');
  assert.equal(configValues(config, 'db1').port?.file, '/home/op/.ssh/db1.conf');
  // Lines after the Include still belong to Host db1.
  assert.equal(configValues(config, 'db1').user?.value, 'after-include');
  assert.equal(configValues(config, 'db2').user?.value, 'fallback');
});

test('an Include loop is reported, not followed forever', () => {
  const loop = { file: '/home/op/.ssh/config', text: 'Include config\n' };
  const { problems } = parseSshConfig('Include config\n', '/home/op/.ssh/config', { home: HOME, readInclude: () => [loop] });
  assert.equal(problems.length, 1);
  assert.match(problems[0]!.message, /nested more than/);
});

test('resolveSshHost: HostName %h, Port, User, IdentityFile expansion', () => {
  const config = parse(
    ['Host db*', '  HostName %h.shop.example', '  Port 2222', '  User dba', '  IdentityFile ~/.ssh/%r@%h_%p', 'Host local', '  IdentityFile keys/local', 'Host *', '  IdentityFile none'].join(
      '\n',
    ),
  );
  const { host, problems } = resolveSshHost(config, 'db1', ctx);
  assert.deepEqual(problems, []);
  assert.deepEqual(host, { hostName: 'db1.shop.example', port: 2222, user: 'dba', identity: '/home/op/.ssh/dba@db1.shop.example_2222', jumps: [] });
  // Relative to the config file's folder; `none` is no key.
  assert.equal(resolveSshHost(config, 'local', ctx).host.identity, '/home/op/.ssh/keys/local');
  assert.equal(resolveSshHost(config, 'other', ctx).host.identity, undefined);
});

test('resolveSshHost: ProxyJump hops resolved through the config, chained, user@host:port, none', () => {
  const config = parse(
    [
      'Host db1 db2',
      '  ProxyJump bastion',
      'Host db3',
      '  ProxyJump ops@192.0.2.1:2022,bastion',
      'Host direct',
      '  ProxyJump none',
      'Host bastion',
      '  HostName 198.51.100.7',
      '  User jump',
      '  IdentityFile ~/.ssh/jump',
      '  ProxyJump outer',
      'Host outer',
      '  HostName 203.0.113.1',
    ].join('\n'),
  );
  const outer = { alias: 'outer', host: '203.0.113.1', port: 22, user: 'op', identity: undefined };
  const bastion = { alias: 'bastion', host: '198.51.100.7', port: 22, user: 'jump', identity: '/home/op/.ssh/jump' };
  const db1 = resolveSshHost(config, 'db1', ctx);
  assert.deepEqual(db1.problems, []);
  assert.deepEqual(db1.host.jumps, [outer, bastion]);
  const db3 = resolveSshHost(config, 'db3', ctx).host.jumps;
  assert.deepEqual(db3[0], { alias: '192.0.2.1', host: '192.0.2.1', port: 2022, user: 'ops', identity: undefined });
  assert.deepEqual(db3.slice(1), [outer, bastion]);
  assert.deepEqual(resolveSshHost(config, 'direct', ctx).host.jumps, []);
});

test('resolveSshHost: a ProxyJump loop and bad values are problems with file and line', () => {
  const config = parse(['Host a', '  ProxyJump b', '  Port 70000', 'Host b', '  ProxyJump a', '  User "bad user"', '  HostName -oProxyCommand=x', 'Host c', '  IdentityFile %z'].join('\n'));
  const { problems } = resolveSshHost(config, 'a', ctx);
  const lines = problems.map((p) => `${p.line}: ${p.message}`);
  assert.ok(lines.some((l) => /^3: Port 70000 is not a port number/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /^2: ProxyJump loops/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /^6: User bad user is not a login name/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /^7: HostName -oProxyCommand=x is not a host name/.test(l)), lines.join('\n'));
  assert.match(resolveSshHost(config, 'c', ctx).problems[0]!.message, /unknown %-token/);
  assert.equal(problems[0]!.file, '/home/op/.ssh/config');
});

test('parseJump and expandTokens', () => {
  assert.deepEqual(parseJump('bastion'), { host: 'bastion' });
  assert.deepEqual(parseJump('ops@bastion:2022'), { user: 'ops', host: 'bastion', port: 2022 });
  assert.deepEqual(parseJump('ssh://ops@[2001:db8::1]:22'), { user: 'ops', host: '2001:db8::1', port: 22 });
  assert.equal(parseJump('-oProxyCommand=x'), undefined);
  assert.equal(parseJump('a:99999'), undefined);
  assert.equal(expandTokens('%h.example', { h: 'db1' }), 'db1.example');
  assert.equal(expandTokens('100%%', {}), '100%');
  assert.equal(expandTokens('%x', { h: 'db1' }), undefined);
  assert.equal(expandTokens('trailing%', {}), undefined);
});
