// Reads an inventory file, checks its shape and rules, resolves secrets, and returns the model.
// Every problem found is reported at once, with file, field path, line and column, and a hint.
import { readdirSync, readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { defaultAuditLogPath } from '../audit.ts';
import { InventoryError, type InventoryIssue } from '../errors.ts';
import type { HeartbeatSettings, HostSpec, Inventory, LoadBalancerTier, NodeSpec, PairSpec, Vip } from './model.ts';
import { parseCidr } from './net.ts';
import { inventorySchema, type RawInventory, type RawSecretRef } from './schema.ts';
import { deriveSecret, Secret } from './secret.ts';
import { shellQuote } from '../transport/shell.ts';
import { parseSshConfig, resolveSshHost, type IncludedFile, type SshConfigProblem, type SshHostConfig } from '../transport/ssh-config.ts';
import { autoIncrementOffset, formatPath, gtidDomainId, validateInventory, type FieldPath, type RuleViolation } from './validate.ts';

export async function loadInventory(file: string, env: NodeJS.ProcessEnv = process.env): Promise<Inventory> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `cannot read it (${(err as Error).message})`;
    throw new InventoryError([{ file: path, path: '', message: reason, hint: 'pass the path of an inventory YAML file, e.g. inventory/example.yml' }]);
  }
  return parseInventory(text, path, env);
}

/** The pure part of loadInventory, apart from reading secret files: text in, model or InventoryError out. */
export async function parseInventory(text: string, path: string, env: NodeJS.ProcessEnv): Promise<Inventory> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const issue = (at: FieldPath, message: string, hint?: string, key = false): InventoryIssue => {
    const pos = locate(doc, at, key, lineCounter);
    return { file: path, path: formatPath(at), message, ...(hint ? { hint } : {}), ...pos };
  };

  if (doc.errors.length > 0) {
    throw new InventoryError(
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { file: path, path: '', message: `YAML syntax: ${e.message.split('\n')[0]}`, hint: 'fix the YAML syntax first', line: pos.line, column: pos.col };
      }),
    );
  }

  const js: unknown = doc.toJS() ?? {};
  let parsed = inventorySchema.safeParse(js);
  const issues: InventoryIssue[] = [];
  if (!parsed.success) {
    issues.push(...parsed.error.issues.flatMap((i) => shapeIssues(i, issue)));
    // Unknown keys alone need not hide the other problems: without them, check the rest too.
    if (parsed.error.issues.every((i) => i.code === 'unrecognized_keys')) {
      for (const i of parsed.error.issues) dropKeys(js, i.path, i.code === 'unrecognized_keys' ? i.keys : []);
      parsed = inventorySchema.safeParse(js);
    }
    if (!parsed.success) throw new InventoryError(issues);
  }
  const raw = parsed.data;

  issues.push(...validateInventory(raw).map((v: RuleViolation) => issue(v.path, v.message, v.hint)));
  const baseDir = dirname(path);
  const secrets: Secret[] = [];
  const resolveSecret = async (ref: RawSecretRef, kind: SecretKind, at: FieldPath): Promise<Secret | undefined> => {
    const result = await readSecret(ref, kind, baseDir, env);
    if (!(result instanceof Secret)) {
      issues.push(issue(at, result.message, result.hint));
      return undefined;
    }
    secrets.push(result);
    return result;
  };
  const replicationPassword = await resolveSecret(raw.mysql.replication.password, 'password', ['mysql', 'replication', 'password']);
  const authkeys = await Promise.all(raw.pairs.map((pair, p) => resolveSecret(pair.heartbeat.authkey, 'authkey', ['pairs', p, 'heartbeat', 'authkey'])));
  const lbAuthkeys = await Promise.all(
    raw.pairs.map((pair, p) => (pair.load_balancers ? resolveSecret(pair.load_balancers.heartbeat.authkey, 'authkey', ['pairs', p, 'load_balancers', 'heartbeat', 'authkey']) : undefined)),
  );

  const ssh = resolveSshSettings(raw, baseDir, (message, hint, at = ['ssh', 'config']) => issues.push(issue(at, message, hint)), (p) =>
    issues.push({ file: p.file, path: 'ssh.config', line: p.line, message: p.message, ...(p.hint ? { hint: p.hint } : {}) }),
  );

  if (issues.length > 0 || !replicationPassword || authkeys.some((k) => !k) || lbAuthkeys.some((k, p) => raw.pairs[p]!.load_balancers && !k) || !ssh) {
    // In file order, so the list reads top to bottom like the file (the inventory's problems first).
    throw new InventoryError(
      issues.sort((a, b) => Number(a.file !== path) - Number(b.file !== path) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0)),
    );
  }
  return buildModel(raw, path, replicationPassword, authkeys as Secret[], lbAuthkeys, secrets, ssh);
}

/** ssh.config applied to the nodes: what the config says about each node, and the one login user. */
interface ResolvedSsh {
  config: string | undefined;
  user: string;
  nodes: Map<string, SshHostConfig>;
}

const NO_SSH_CONFIG: SshHostConfig = { hostName: undefined, port: undefined, user: undefined, identity: undefined, jumps: [] };

/**
 * Reads ssh.config (and what it includes) and resolves every node's name through it, as `ssh NAME`
 * would. Values written in the inventory win: ssh_host over HostName, ssh_port and ssh.port over
 * Port, ssh.user over User, ssh.identity over IdentityFile. The login user must be the same on
 * every node (duet logs in to MySQL as it, and the resource script knows it), so a config giving
 * the nodes different users is a problem. undefined when something was reported.
 */
function resolveSshSettings(
  raw: RawInventory,
  baseDir: string,
  report: (message: string, hint?: string, at?: FieldPath) => void,
  reportConfig: (problem: SshConfigProblem) => void,
): ResolvedSsh | undefined {
  const nodes = raw.pairs.flatMap((p) => p.nodes);
  if (raw.ssh.config === undefined) {
    return { config: undefined, user: raw.ssh.user ?? 'root', nodes: new Map(nodes.map((n) => [n.name, NO_SSH_CONFIG])) };
  }
  const file = expandPath(raw.ssh.config, baseDir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    report(`cannot read the SSH client config ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 'point ssh.config at an OpenSSH client config, e.g. ~/.ssh/config, or remove it');
    return undefined;
  }
  const home = homedir();
  const { config, problems } = parseSshConfig(text, file, { home, readInclude: readIncluded });
  const resolved = new Map<string, SshHostConfig>();
  for (const node of nodes) {
    const { host, problems: more } = resolveSshHost(config, node.name, { home, localUser: userInfo().username });
    problems.push(...more);
    resolved.set(node.name, host);
  }
  // One problem once, though several nodes hit the same line.
  const seen = new Set<string>();
  for (const p of problems) {
    const key = `${p.file}:${p.line}:${p.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    reportConfig(p);
  }
  let user = raw.ssh.user;
  if (user === undefined) {
    const users = new Map(nodes.map((n) => [n.name, resolved.get(n.name)!.user ?? 'root']));
    if (new Set(users.values()).size > 1) {
      report(
        `${file} gives the nodes different login users (${[...users].map(([n, u]) => `${n}: ${u}`).join(', ')}); duet needs one`,
        'duet logs in to MySQL as its SSH user: set ssh.user in the inventory (it wins over the config)',
      );
      return undefined;
    }
    user = [...users.values()][0] ?? 'root';
  }
  return problems.length > 0 ? undefined : { config: file, user, nodes: resolved };
}

/** An Include pattern's files: wildcards (`*`, `?`) in the last part only, sorted by name; none when nothing matches. */
function readIncluded(pattern: string): IncludedFile[] {
  const dir = dirname(pattern);
  const name = basename(pattern);
  const read = (file: string): IncludedFile[] => {
    try {
      return [{ file, text: readFileSync(file, 'utf8') }];
    } catch {
      return [];
    }
  };
  if (!/[*?]/.test(name)) return read(pattern);
  const source = name.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries
    .filter((e) => new RegExp(`^${source}$`).test(e) && !e.startsWith('.'))
    .sort()
    .flatMap((e) => read(resolve(dir, e)));
}

type RawHeartbeat = RawInventory['pairs'][number]['heartbeat'];
type RawVip = RawInventory['pairs'][number]['vip'];
type RawHost = Pick<RawInventory['pairs'][number]['nodes'][number], 'name' | 'address' | 'ssh_host' | 'ssh_port' | 'host_key'>;

function heartbeatSettings(hb: RawHeartbeat, vipInterface: string, authkey: Secret): HeartbeatSettings {
  return {
    keepalive: hb.keepalive,
    // Heartbeat's own default is twice keepalive; keep it below deadtime.
    warntime: hb.warntime ?? Math.min(2 * hb.keepalive, hb.deadtime - 1),
    deadtime: hb.deadtime,
    initdead: hb.initdead,
    udpport: hb.udpport,
    autoFailback: hb.auto_failback,
    interface: hb.interface ?? vipInterface,
    authkey,
  };
}

function vipOf(raw: RawVip): Vip {
  const vip = parseCidr(raw.address)!;
  return { address: vip.address, prefixLength: vip.prefixLength, interface: raw.interface };
}

function buildModel(raw: RawInventory, file: string, replicationPassword: Secret, authkeys: Secret[], lbAuthkeys: Array<Secret | undefined>, secrets: Secret[], ssh: ResolvedSsh): Inventory {
  const baseDir = dirname(file);
  // Derived secrets are redacted like the ones they come from.
  const keep = (secret: Secret) => (secrets.push(secret), secret);
  const pairs = raw.pairs.map((pair, p): PairSpec => {
    const nodes = pair.nodes.map(
      (node, n): NodeSpec => ({
        ...hostOf(node),
        serverId: node.server_id,
        preferred: node.preferred,
        autoIncrementOffset: autoIncrementOffset(node, n),
        gtidDomainId: gtidDomainId(node),
      }),
    ) as [NodeSpec, NodeSpec];
    const lb = pair.load_balancers;
    const loadBalancers: LoadBalancerTier | undefined = lb && {
      vip: vipOf(lb.vip),
      port: lb.port,
      readPort: lb.read_port,
      agentPort: lb.agent_port,
      heartbeat: heartbeatSettings(lb.heartbeat, lb.vip.interface, lbAuthkeys[p]!),
      nodes: lb.nodes.map((host) => hostOf(host)) as [HostSpec, HostSpec],
    };
    return {
      name: pair.name,
      vip: vipOf(pair.vip),
      heartbeat: heartbeatSettings(pair.heartbeat, pair.vip.interface, authkeys[p]!),
      failover: {
        pingNode: pair.failover.ping_node,
        monitorInterval: pair.failover.monitor_interval,
        monitorFailures: pair.failover.monitor_failures,
        flapWindow: pair.failover.flap_window,
        stonithHost: pair.failover.stonith_host,
        fencePassword: keep(deriveSecret(authkeys[p]!, 'duet fence account')),
      },
      nodes,
      loadBalancers,
    };
  });
  // Explicit inventory values first, then ssh.config (database nodes only), then the defaults.
  function hostOf(host: RawHost): HostSpec {
    const config = ssh.nodes.get(host.name) ?? NO_SSH_CONFIG;
    return {
      name: host.name,
      address: host.address,
      sshHost: host.ssh_host ?? config.hostName ?? host.address,
      sshPort: host.ssh_port ?? raw.ssh.port ?? config.port ?? 22,
      ...(raw.ssh.identity === undefined && config.identity !== undefined ? { sshIdentity: config.identity } : {}),
      ...(config.jumps.length > 0 ? { sshJump: config.jumps } : {}),
      hostKey: host.host_key,
    };
  }

  return {
    file,
    cluster: raw.cluster,
    ssh: {
      user: ssh.user,
      port: raw.ssh.port ?? 22,
      identity: raw.ssh.identity === undefined ? undefined : expandPath(raw.ssh.identity, baseDir),
      config: ssh.config,
      knownHosts: expandPath(raw.ssh.known_hosts, baseDir),
      sudo: raw.ssh.sudo,
      connectTimeoutSeconds: raw.ssh.connect_timeout,
    },
    mysql: {
      flavor: raw.mysql.flavor,
      databases: raw.mysql.databases,
      ignoreDatabases: raw.mysql.ignore_databases,
      autoIncrementIncrement: raw.mysql.auto_increment_increment,
      expireLogsDays: raw.mysql.expire_logs_days,
      maxBinlogSize: raw.mysql.max_binlog_size,
      replication: { user: raw.mysql.replication.user, password: replicationPassword },
      settings: Object.entries(raw.mysql.settings).map(([k, v]) => [k, typeof v === 'boolean' ? (v ? 'ON' : 'OFF') : String(v)]),
      tls: {
        dir: raw.mysql.tls.dir === undefined ? defaultTlsDir(raw.cluster) : expandPath(raw.mysql.tls.dir, baseDir),
        days: raw.mysql.tls.days,
        renewDays: raw.mysql.tls.renew_days,
      },
    },
    firewall: { manage: raw.firewall.manage, sshFrom: raw.firewall.ssh_from ?? [], mysqlFrom: raw.firewall.mysql_from },
    pairs,
    ...(raw.hooks && {
      hooks: {
        preSwap: raw.hooks.pre_swap && { run: raw.hooks.pre_swap.run, timeoutSeconds: raw.hooks.pre_swap.timeout },
        postSwap: raw.hooks.post_swap && { run: raw.hooks.post_swap.run, timeoutSeconds: raw.hooks.post_swap.timeout },
        postFailover: raw.hooks.post_failover && { run: raw.hooks.post_failover.run, timeoutSeconds: raw.hooks.post_failover.timeout },
      },
    }),
    auditLog: raw.audit_log === undefined ? defaultAuditLogPath(raw.cluster) : expandPath(raw.audit_log, baseDir),
    secrets,
  };
}

/** Where a cluster's CA and node keys are kept when mysql.tls.dir is not set (beside the audit log's ~/.duet). */
export function defaultTlsDir(cluster: string): string {
  return resolve(homedir(), '.duet', 'tls', cluster);
}

/** `~/x` is relative to the home directory; any other relative path to the inventory's folder. */
export function expandPath(path: string, baseDir: string): string {
  if (path === '~' || path.startsWith('~/')) return resolve(homedir(), path.slice(2));
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

/** Which secret: the limits differ (see checkSecretValue). */
export type SecretKind = 'password' | 'authkey';

/** Shorter secrets are refused: both are used by machines only, so length costs nothing. */
export const SECRET_MIN_LENGTH = 16;
/**
 * The longest replication password taken: MySQL refuses a SOURCE_PASSWORD over 32 characters
 * (ER_CHANGE_SOURCE_PASSWORD_LENGTH, 3056), MariaDB's limit is longer; the smaller one for both, so
 * the server never has to complain about it (its complaint quotes the value).
 */
export const REPLICATION_PASSWORD_MAX_LENGTH = 32;
const GENERATE = 'generate one with `openssl rand -hex 16`';

type Problem = { message: string; hint: string };

/**
 * What is wrong with a secret's value, whichever its source (the same rules for env: and file:);
 * undefined when nothing is. Never quotes the value. A line break or another control character
 * would add a line to authkeys; the password travels as a SQL string literal, in printable ASCII so
 * its length in characters is its length in bytes; the Heartbeat key is one word on its line.
 */
export function checkSecretValue(value: string, kind: SecretKind, where: string): Problem | undefined {
  if (value === '') return { message: `${where} is empty`, hint: GENERATE };
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    return { message: `${where} holds a line break or another control character`, hint: `a secret is one line of printable characters; ${GENERATE}` };
  }
  if (kind === 'password' && /[^\u0020-\u007e]/.test(value)) {
    return { message: `${where} holds characters other than printable ASCII`, hint: GENERATE };
  }
  if (kind === 'authkey' && /[^\u0021-\u007e]/.test(value)) {
    return { message: `${where} holds a space or characters other than printable ASCII`, hint: `Heartbeat reads the key as one word; ${GENERATE}` };
  }
  if (value.length < SECRET_MIN_LENGTH) {
    return { message: `${where} is shorter than ${SECRET_MIN_LENGTH} characters`, hint: GENERATE };
  }
  if (kind === 'password' && value.length > REPLICATION_PASSWORD_MAX_LENGTH) {
    return {
      message: `${where} is longer than ${REPLICATION_PASSWORD_MAX_LENGTH} characters, the most a replication password may have (CHANGE MASTER / CHANGE REPLICATION SOURCE)`,
      hint: GENERATE,
    };
  }
  return undefined;
}

/** The secret, or why it could not be had (never containing the value). */
async function readSecret(ref: RawSecretRef, kind: SecretKind, baseDir: string, env: NodeJS.ProcessEnv): Promise<Secret | Problem> {
  if (ref.env !== undefined) {
    const value = env[ref.env];
    if (value === undefined || value === '') return { message: `environment variable ${ref.env} is not set`, hint: `export ${ref.env}=... before running duet, or use file: PATH` };
    return checkSecretValue(value, kind, `environment variable ${ref.env}`) ?? new Secret(value, `env ${ref.env}`);
  }
  const path = expandPath(ref.file!, baseDir);
  let value: string;
  try {
    const { mode } = await stat(path);
    // Group or other bits: someone else may read it (or replace it).
    if ((mode & 0o077) !== 0) {
      return { message: `secret file ${path} is accessible by group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')})`, hint: `chmod 600 ${shellQuote(path)}` };
    }
    // One trailing newline is what editors and `echo` add; it is not part of the secret.
    value = (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
  } catch (err) {
    return { message: `cannot read secret file ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, hint: 'create the file (mode 0600) or point to another one' };
  }
  return checkSecretValue(value, kind, `secret file ${path}`) ?? new Secret(value, `file ${path}`);
}

/** Deletes keys from the object at path inside a plain parsed document. */
function dropKeys(root: unknown, path: PropertyKey[], keys: string[]): void {
  const target = path.reduce<unknown>((node, part) => (node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[part] : undefined), root);
  if (target === null || typeof target !== 'object') return;
  for (const key of keys) delete (target as Record<string, unknown>)[key];
}

type IssueMaker = (at: FieldPath, message: string, hint?: string, key?: boolean) => InventoryIssue;

/** Turns one zod issue into inventory issues with wording a user understands. */
function shapeIssues(zi: z.core.$ZodIssue, issue: IssueMaker): InventoryIssue[] {
  const at = zi.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (zi.code === 'unrecognized_keys') {
    return zi.keys.map((k) => issue([...at, k], `unknown key ${JSON.stringify(k)}`, 'check the spelling against the inventory reference in README.md', true));
  }
  if (zi.code === 'invalid_key') {
    return [issue(at, zi.issues[0]?.message ?? zi.message, undefined, true)];
  }
  if (zi.code === 'invalid_type' && /received undefined/.test(zi.message)) {
    return [issue(at, 'is required', `add ${formatPath(at)} (see the inventory reference in README.md)`)];
  }
  if (zi.code === 'invalid_type') {
    return [issue(at, `must be ${zi.expected === 'record' ? 'a mapping' : `a ${zi.expected}`}`, undefined)];
  }
  return [issue(at, zi.message)];
}

/** Line and column of the value at path (or of its key), or of the deepest part of it that exists. */
function locate(doc: Document, path: FieldPath, key: boolean, lc: LineCounter): { line?: number; column?: number } {
  let node: unknown = doc.contents;
  let found: YamlNode | undefined = isMap(node) || isSeq(node) ? (node as YamlNode) : undefined;
  for (const [i, part] of path.entries()) {
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === part);
      if (!pair) break;
      const target = (last && key) || pair.value === null ? pair.key : pair.value;
      if (target && (isScalar(target) || isMap(target) || isSeq(target))) found = target as YamlNode;
      node = pair.value;
    } else if (isSeq(node) && typeof part === 'number') {
      const item = node.items[part];
      if (!item) break;
      if (isScalar(item) || isMap(item) || isSeq(item)) found = item as YamlNode;
      node = item;
    } else {
      break;
    }
  }
  const offset = found?.range?.[0];
  if (offset === undefined) return {};
  const pos = lc.linePos(offset);
  return { line: pos.line, column: pos.col };
}
