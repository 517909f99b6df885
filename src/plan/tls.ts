// TLS between the peers, the pure part: what the controller's folder of keys and certificates
// (mysql.tls.dir) holds, judged against the inventory -> what provision must create or issue there.
// Node's own X509 parser does the judging; ops/tls.ts reads the folder and runs openssl.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { InventoryError } from '../errors.ts';
import type { Inventory, NodeSpec } from '../inventory/model.ts';
import type { Secret } from '../inventory/secret.ts';

/** A file of the folder as read: its text, or undefined when it is missing. */
export interface TlsFolder {
  dir: string;
  caKey: string | undefined;
  caCert: string | undefined;
  /** By node name. */
  nodes: Map<string, { key: string | undefined; cert: string | undefined }>;
}

/** One change in the folder, in order. `text` is for people (the plan). */
export type PkiAction = { text: string } & ({ kind: 'create-ca' } | { kind: 'issue'; node: string; address: string });

/** What a node gets (its managed files) and presents to its peer: PEM texts, the key a Secret. */
export interface NodeTls {
  ca: string;
  cert: string;
  key: Secret;
}

const DAY_MS = 86_400_000;

/** The folder's file names: ca.key, ca.pem, NODE.key, NODE.pem (node names are host names, safe as file names). */
export const CA_KEY_FILE = 'ca.key';
export const CA_CERT_FILE = 'ca.pem';
export const nodeKeyFile = (node: string) => `${node}.key`;
export const nodeCertFile = (node: string) => `${node}.pem`;

/**
 * What to do in the folder: create the CA when it has none (then every node is issued a certificate
 * from it), and issue a node's key and certificate when they are missing, do not belong together,
 * were not signed by the cluster's CA, do not name the node's address, or expire within
 * mysql.tls.renew_days. A CA whose certificate and key disagree is refused (removing it is a
 * decision: every node then gets a new certificate).
 */
export function planPki(folder: TlsFolder, inv: Pick<Inventory, 'file' | 'cluster' | 'mysql'>, nodes: readonly NodeSpec[], now: Date): PkiAction[] {
  const { dir, renewDays } = inv.mysql.tls;
  const caFiles = [folder.caKey, folder.caCert].filter((f) => f !== undefined).length;
  if (caFiles === 1) throw folderError(inv.file, `${dir} holds only one of ${CA_KEY_FILE} and ${CA_CERT_FILE}`, `restore the other, or remove it too so provision creates a new CA (every node then gets a new certificate)`);
  const actions: PkiAction[] = [];
  let ca: X509Certificate | undefined;
  if (caFiles === 0) {
    actions.push({ kind: 'create-ca', text: `create the CA of cluster ${inv.cluster} in ${dir} (${CA_KEY_FILE}, ${CA_CERT_FILE})` });
  } else {
    ca = parseCert(folder.caCert!);
    if (!ca || !ca.ca || !matchesKey(ca, folder.caKey!)) {
      throw folderError(inv.file, `${dir}/${CA_CERT_FILE} is not a CA certificate for ${CA_KEY_FILE}`, 'restore the pair, or remove both so provision creates a new CA (every node then gets a new certificate)');
    }
  }
  for (const node of nodes) {
    const why = ca ? reissueReason(folder.nodes.get(node.name), ca, node, now, renewDays) : 'the CA is new';
    if (why !== undefined) actions.push({ kind: 'issue', node: node.name, address: node.address, text: `issue a key and certificate for ${node.name} (IP ${node.address}) signed by the cluster CA (${why})` });
  }
  return actions;
}

/** Why a node's key and certificate must be issued again, or undefined when they are good. */
export function reissueReason(files: { key: string | undefined; cert: string | undefined } | undefined, ca: X509Certificate, node: NodeSpec, now: Date, renewDays: number): string | undefined {
  if (!files?.cert || !files.key) return 'it has none';
  const cert = parseCert(files.cert);
  if (!cert) return 'its certificate cannot be read';
  if (!matchesKey(cert, files.key)) return 'its certificate does not match its key';
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return 'it was not signed by the cluster CA';
  if (cert.checkIP(node.address) === undefined) return `it does not name ${node.address}`;
  const expires = new Date(cert.validTo);
  if (new Date(cert.validFrom).getTime() > now.getTime()) return 'it is not valid yet';
  if (expires.getTime() - now.getTime() < renewDays * DAY_MS) return `it expires on ${expires.toISOString().slice(0, 10)}`;
  return undefined;
}

/** When a node's certificate expires (for status and messages), or undefined when it cannot be read. */
export function certificateExpiry(pem: string): Date | undefined {
  const cert = parseCert(pem);
  return cert && new Date(cert.validTo);
}

function parseCert(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

function matchesKey(cert: X509Certificate, keyPem: string): boolean {
  try {
    return cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

function folderError(file: string, message: string, hint: string): InventoryError {
  return new InventoryError([{ file, path: 'mysql.tls.dir', message, hint }]);
}
