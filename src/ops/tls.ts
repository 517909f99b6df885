// TLS between the peers, the side effects on the controller: read the folder of keys and
// certificates (mysql.tls.dir), create the cluster's CA and issue node certificates as planPki says.
// Keys are made by node:crypto and written 0600 in 0700 folders; openssl signs, given only paths
// (no key material on its command line). The work is done in a temporary copy, so the plan (a dry
// run too) shows the files a real run installs, and the folder changes only once the run is confirmed.
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HostStateError, InventoryError } from '../errors.ts';
import type { Inventory, NodeSpec } from '../inventory/model.ts';
import { Secret } from '../inventory/secret.ts';
import { shellQuote } from '../transport/shell.ts';
import { CA_CERT_FILE, CA_KEY_FILE, nodeCertFile, nodeKeyFile, planPki, type NodeTls, type PkiAction, type TlsFolder } from '../plan/tls.ts';

const run = promisify(execFile);

/** The CA's validity: node certificates are renewed from it; a new CA means new certificates everywhere. */
const CA_DAYS = 3650;

export interface PkiResult {
  /** What the folder needs (planPki), in order; done in a temporary copy until commit(). */
  actions: PkiAction[];
  /** Each node's CA, certificate and key, by node name, as they are after the actions. */
  material: Map<string, NodeTls>;
  /**
   * Moves what the actions made into the folder (created 0700), each file atomically: exactly the
   * material the plan shows. Not called (dry run, a "no" at the question): the folder is untouched.
   */
  commit(): Promise<void>;
  /** Removes the temporary copy (always, after commit or instead of it). */
  discard(): Promise<void>;
}

/**
 * What the folder needs, done in a temporary copy, and every node's material from it: a dry run and
 * a real run plan with the same files, and only a confirmed run keeps them (commit).
 */
export async function preparePki(inv: Inventory, nodes: readonly NodeSpec[], opts: { now?: Date } = {}): Promise<PkiResult> {
  const { dir } = inv.mysql.tls;
  const folder = await readTlsFolder(inv, nodes);
  const actions = planPki(folder, inv, nodes, opts.now ?? new Date());
  if (actions.length === 0) return { actions, material: materialOf(folder, nodes, inv), commit: async () => undefined, discard: async () => undefined };
  const work = await mkdtemp(join(tmpdir(), 'duet-tls-'));
  const discard = () => rm(work, { recursive: true, force: true });
  try {
    await copyFolder(folder, nodes, work);
    for (const action of actions) {
      if (action.kind === 'create-ca') await createCa(work, inv.cluster);
      else await issueNode(work, action.node, action.address, inv.mysql.tls.days);
    }
    const after = await readTlsFolder(inv, nodes, work);
    const changed = [...new Set(actions.flatMap((a) => (a.kind === 'create-ca' ? [CA_KEY_FILE, CA_CERT_FILE] : [nodeKeyFile(a.node), nodeCertFile(a.node)])))];
    const commit = async () => {
      await ensurePrivateDir(dir);
      for (const name of changed) await writePrivate(dir, name, await readFile(join(work, name), 'utf8'));
    };
    return { actions, material: materialOf(after, nodes, inv), commit, discard };
  } catch (err) {
    await discard();
    throw err;
  }
}

/**
 * The material the folder holds now, for the nodes that have their certificate and key (verify: the
 * files provision installs, to compare with the hosts'); nothing is created. Empty without a folder.
 */
export async function readTlsMaterial(inv: Inventory, nodes: readonly NodeSpec[]): Promise<Map<string, NodeTls>> {
  const folder = await readTlsFolder(inv, nodes);
  return materialOf(folder, nodes.filter((n) => folder.caCert && folder.nodes.get(n.name)?.cert && folder.nodes.get(n.name)?.key), inv);
}

/** The folder's files for these nodes (missing ones undefined); refuses a folder or key others can read. */
export async function readTlsFolder(inv: Pick<Inventory, 'file' | 'mysql'>, nodes: readonly NodeSpec[], dir = inv.mysql.tls.dir): Promise<TlsFolder> {
  const mode = await stat(dir).then((s) => s.mode, (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
  const folder: TlsFolder = { dir, caKey: undefined, caCert: undefined, nodes: new Map() };
  if (mode === undefined) return folder;
  if ((mode & 0o077) !== 0) exposed(inv.file, dir, mode, 700);
  const read = async (name: string, secret: boolean): Promise<string | undefined> => {
    const path = join(dir, name);
    try {
      const { mode: fileMode } = await stat(path);
      if (secret && (fileMode & 0o077) !== 0) exposed(inv.file, path, fileMode, 600);
      return await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  };
  folder.caKey = await read(CA_KEY_FILE, true);
  folder.caCert = await read(CA_CERT_FILE, false);
  for (const node of nodes) folder.nodes.set(node.name, { key: await read(nodeKeyFile(node.name), true), cert: await read(nodeCertFile(node.name), false) });
  return folder;
}

function exposed(file: string, path: string, mode: number, want: number): never {
  throw new InventoryError([
    { file, path: 'mysql.tls.dir', message: `${path} is accessible by group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')})`, hint: `chmod ${want} ${shellQuote(path)}` },
  ]);
}

function materialOf(folder: TlsFolder, nodes: readonly NodeSpec[], inv: Pick<Inventory, 'secrets'>): Map<string, NodeTls> {
  const material = new Map<string, NodeTls>();
  for (const node of nodes) {
    const files = folder.nodes.get(node.name);
    if (!folder.caCert || !files?.cert || !files.key) throw new Error(`preparePki: no material for ${node.name} after the actions`);
    const key = new Secret(files.key, `${folder.dir}/${nodeKeyFile(node.name)}`);
    // Output is redacted of every known secret: a key must never show, even in a trace.
    inv.secrets.push(key);
    material.set(node.name, { ca: folder.caCert, cert: files.cert, key });
  }
  return material;
}

/** The folder (and missing parents) created 0700; an existing one is left as it is (readTlsFolder checked it). */
async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

async function copyFolder(folder: TlsFolder, nodes: readonly NodeSpec[], to: string): Promise<void> {
  const names = [CA_KEY_FILE, CA_CERT_FILE, ...nodes.flatMap((n) => [nodeKeyFile(n.name), nodeCertFile(n.name)])];
  for (const name of names) await copyFile(join(folder.dir, name), join(to, name)).catch(() => undefined);
}

/** Writes a file of the folder atomically (a temporary name, then rename), mode 0600. */
async function writePrivate(dir: string, name: string, content: string): Promise<void> {
  const temp = join(dir, `.${name}.${randomBytes(4).toString('hex')}.new`);
  await writeFile(temp, content, { mode: 0o600, flag: 'wx' });
  await rename(temp, join(dir, name));
}

function newKey(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * Runs openssl commands in a private scratch folder holding their config (`CNF` in an argument is its
 * path, `@x` a file x in the folder); returns the text of the file `output` they wrote there.
 */
async function openssl(config: string, commands: string[][], output: string): Promise<string> {
  const scratch = await mkdtemp(join(tmpdir(), 'duet-openssl-'));
  try {
    await writeFile(join(scratch, 'openssl.cnf'), config, { mode: 0o600 });
    const expand = (arg: string) => (arg === 'CNF' ? join(scratch, 'openssl.cnf') : arg.startsWith('@') ? join(scratch, arg.slice(1)) : arg);
    for (const args of commands) {
      try {
        await run('openssl', args.map(expand), { env: { ...process.env, OPENSSL_CONF: join(scratch, 'openssl.cnf') } });
      } catch (err) {
        const e = err as NodeJS.ErrnoException & { stderr?: string };
        throw new HostStateError(`openssl ${args[0]} failed on this machine: ${e.code === 'ENOENT' ? 'openssl is not installed' : (e.stderr ?? e.message).trim().split('\n')[0]}`, {
          hint: "duet issues the peers' certificates with the openssl command line tool: install openssl (apt-get install openssl)",
        });
      }
    }
    return await readFile(join(scratch, output), 'utf8');
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The cluster's CA: a new key and a self-signed certificate that may sign node certificates only. */
async function createCa(dir: string, cluster: string): Promise<void> {
  const key = newKey();
  await writePrivate(dir, CA_KEY_FILE, key);
  const config = [
    '[req]',
    'distinguished_name = dn',
    'prompt = no',
    'x509_extensions = ext',
    '[dn]',
    `CN = duet CA of cluster ${cluster}`,
    '[ext]',
    'basicConstraints = critical, CA:TRUE, pathlen:0',
    'keyUsage = critical, keyCertSign, cRLSign',
    'subjectKeyIdentifier = hash',
    '',
  ].join('\n');
  const cert = await openssl(config, [['req', '-new', '-x509', '-config', 'CNF', '-key', join(dir, CA_KEY_FILE), '-sha256', '-days', String(CA_DAYS), '-set_serial', serial(), '-out', '@ca.pem']], 'ca.pem');
  await writePrivate(dir, CA_CERT_FILE, cert);
}

/**
 * A node's new key and its certificate: for the node's IP address (subjectAltName, what a replica
 * verifies against MASTER_HOST), usable as server and as client (the replica presents it: REQUIRE X509).
 */
async function issueNode(dir: string, node: string, address: string, days: number): Promise<void> {
  const key = newKey();
  await writePrivate(dir, nodeKeyFile(node), key);
  const config = [
    '[req]',
    'distinguished_name = dn',
    'prompt = no',
    '[dn]',
    `CN = ${node}`,
    '[ext]',
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature',
    'extendedKeyUsage = serverAuth, clientAuth',
    `subjectAltName = IP:${address}`,
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
    '',
  ].join('\n');
  const cert = await openssl(
    config,
    [
      ['req', '-new', '-config', 'CNF', '-key', join(dir, nodeKeyFile(node)), '-out', '@node.csr'],
      ['x509', '-req', '-in', '@node.csr', '-CA', join(dir, CA_CERT_FILE), '-CAkey', join(dir, CA_KEY_FILE), '-set_serial', serial(), '-days', String(days), '-sha256', '-extfile', 'CNF', '-extensions', 'ext', '-out', '@node.pem'],
    ],
    'node.pem',
  );
  await writePrivate(dir, nodeCertFile(node), cert);
}

function serial(): string {
  // Positive, 64 random bits.
  return `0x${(randomBytes(8)[0]! & 0x7f).toString(16).padStart(2, '0')}${randomBytes(7).toString('hex')}`;
}
