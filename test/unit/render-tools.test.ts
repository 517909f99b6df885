// The rendered files, checked by the programs that will read them: iptables-restore parses the
// rules (inside a throwaway network namespace, so this machine's firewall is never touched) and
// mariadbd parses my.cnf with its own option parser. Each check is also shown to reject a bad file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { renderInventory, type DesiredFile } from '../../src/render/desired.ts';
import { sampleInventory } from './helpers/sample-inventory.ts';

/** Absolute path of an executable on PATH or in the sbin directories (often not on a user's PATH). */
function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  for (const dir of dirs.filter((d) => d !== '')) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

const workDir = mkdtempSync(join(tmpdir(), 'duet-render-tools-'));
after(() => rmSync(workDir, { recursive: true, force: true }));

function writeTemp(name: string, content: string): string {
  const path = join(workDir, name);
  writeFileSync(path, content);
  return path;
}

/** Runs a program; returns its exit status and stderr (stdout is not needed by any check). */
function run(command: string, args: string[]): { status: number | null; stderr: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
  if (result.error) throw result.error;
  return { status: result.status, stderr: result.stderr };
}

/** Each node's rendered file at this path, e.g. every node's /etc/iptables.rules. */
function renderedFiles(path: string): Array<{ nodeName: string; file: DesiredFile }> {
  return [...renderInventory(sampleInventory())].flatMap(([nodeName, files]) =>
    files.filter((f) => f.path === path).map((file) => ({ nodeName, file })),
  );
}

const unshare = findExecutable('unshare');
const iptablesRestore = findExecutable('iptables-restore');
// A network namespace of its own needs root (CAP_SYS_ADMIN); as another user the check is skipped.
const iptablesMissing = !(unshare && iptablesRestore)
  ? 'iptables-restore or unshare is not installed (Debian: apt-get install iptables util-linux)'
  : process.getuid?.() !== 0
    ? 'needs root for a throwaway network namespace'
    : false;

describe('iptables.rules through iptables-restore --test', { skip: iptablesMissing }, () => {
  /** --test parses and builds the whole ruleset, then commits nothing; --net gives it an empty namespace of its own. */
  function iptablesRestoreTest(rulesFile: string): { status: number | null; stderr: string } {
    return run(unshare!, ['--net', iptablesRestore!, '--test', rulesFile]);
  }

  test('the sample fleet renders iptables rules for every node and load balancer', () => assert.equal(renderedFiles('/etc/iptables.rules').length, 6));
  for (const { nodeName, file } of renderedFiles('/etc/iptables.rules')) {
    test(`${nodeName} ${file.path} is accepted`, () => {
      const { status, stderr } = iptablesRestoreTest(writeTemp(`${nodeName}.rules`, file.content));
      assert.equal(status, 0, stderr);
    });
  }

  test('a rules file with a mistyped option is rejected', () => {
    const [first] = renderedFiles('/etc/iptables.rules');
    assert.ok(first);
    const { status, stderr } = iptablesRestoreTest(writeTemp('bad.rules', first.file.content.replace('--dport', '--dprot')));
    assert.notEqual(status, 0);
    assert.match(stderr, /unknown option "--dprot"/);
  });
});

const mariadbd = findExecutable('mariadbd');

describe('my.cnf through mariadbd option parsing', { skip: mariadbd ? false : 'mariadbd is not installed (Debian: apt-get install mariadb-server)' }, () => {
  // --help --verbose parses every option of the defaults file, then prints them and exits without
  // touching a data directory or log. An unknown option or a bad value exits non-zero. (MariaDB
  // 10.11's --validate-config goes further and starts initialising: it needs the log directories.)
  function mariadbdParse(cnfFile: string): { status: number | null; stderr: string } {
    return run(mariadbd!, [`--defaults-file=${cnfFile}`, '--help', '--verbose']);
  }

  const cnfPath = '/etc/mysql/mariadb.conf.d/60-duet.cnf';
  const cnfs = renderedFiles(cnfPath);
  test('the sample fleet renders MariaDB option files', () => assert.equal(cnfs.length, 4));

  for (const { nodeName, file } of cnfs) {
    test(`${nodeName} ${file.path} is accepted`, () => {
      const { status, stderr } = mariadbdParse(writeTemp(`${nodeName}.cnf`, file.content));
      assert.equal(status, 0, stderr);
    });
  }

  const badEdits: Array<[what: string, edit: (cnf: string) => string, error: RegExp]> = [
    ['an unknown option', (cnf) => `${cnf}no_such_option = 1\n`, /unknown variable 'no_such_option=1'/],
    ['a bad value', (cnf) => cnf.replace('binlog_format = ROW', 'binlog_format = ROWS'), /Error while setting value 'ROWS' to 'binlog_format'/],
  ];
  for (const [what, edit, error] of badEdits) {
    test(`a file with ${what} is rejected`, () => {
      const [first] = cnfs;
      assert.ok(first);
      const { status, stderr } = mariadbdParse(writeTemp('bad.cnf', edit(first.file.content)));
      assert.notEqual(status, 0);
      assert.match(stderr, error);
    });
  }
});

describe('the boot script and the writer agent through sh -n', () => {
  test('the sample fleet renders the boot script for every node and load balancer', () => assert.equal(renderedFiles('/etc/network/if-pre-up.d/duet-iptables').length, 6));
  test('the sample fleet renders the writer agent on the nodes of the pair with load balancers', () => assert.equal(renderedFiles('/etc/init.d/duet-agent').length, 2));
  for (const path of ['/etc/network/if-pre-up.d/duet-iptables', '/etc/duet/writer-agent', '/etc/init.d/duet-agent']) {
    for (const { nodeName, file } of renderedFiles(path)) {
      test(`${nodeName} ${file.path} is valid sh`, () => {
        const { status, stderr } = run('sh', ['-n', writeTemp(`${nodeName}.sh`, file.content)]);
        assert.equal(status, 0, stderr);
      });
    }
  }
});

const haproxy = findExecutable('haproxy');

describe('haproxy.cfg through haproxy -c', { skip: haproxy ? false : 'haproxy is not installed (Debian: apt-get install haproxy)' }, () => {
  const configs = renderedFiles('/etc/haproxy/haproxy.cfg');
  test('the sample fleet renders haproxy.cfg for both load balancers', () => assert.equal(configs.length, 2));
  for (const { nodeName, file } of configs) {
    test(`${nodeName} ${file.path} is accepted`, () => {
      const { status, stderr } = run(haproxy!, ['-c', '-q', '-f', writeTemp(`${nodeName}.cfg`, file.content)]);
      assert.equal(status, 0, stderr);
    });
  }
  test('a config with a mistyped keyword is rejected', () => {
    const [first] = configs;
    assert.ok(first);
    const { status, stderr } = run(haproxy!, ['-c', '-f', writeTemp('bad.cfg', first.file.content.replace('    balance first', '    balance firts'))]);
    assert.notEqual(status, 0, stderr);
    assert.match(stderr, /parsing \[.*bad\.cfg:\d+\] : balance only supports/);
  });
});
