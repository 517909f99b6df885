import type { ReplicaStatus } from '../../../src/mysql/model.ts';
import { TLS_PATHS } from '../../../src/render/desired.ts';

/** A replica's TLS as provision sets it: on, the source's certificate verified, duet's files. */
export const verifiedTls: ReplicaStatus['tls'] = { enabled: true, verifyServerCert: true, ...TLS_PATHS };
