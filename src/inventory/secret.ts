import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';

/**
 * A secret value (replication password, Heartbeat key). Printing, string-concatenating, JSON-encoding
 * or inspecting it shows only where it came from, so a forgotten log line cannot leak it.
 * Call reveal() exactly where the value must go to a host (a file's content, a SQL parameter).
 */
export class Secret {
  readonly #value: string;
  /** Where it came from, e.g. "env DUET_REPL_PASSWORD" or "file /path": safe to print. */
  readonly source: string;

  constructor(value: string, source: string) {
    this.#value = value;
    this.source = source;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return `[secret from ${this.source}]`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

export const REDACTED = '[redacted]';

/** Replaces every occurrence of each secret's value in text. Longest first, so overlaps redact fully. */
export function redact(text: string, secrets: readonly Secret[]): string {
  const values = secrets
    .map((s) => s.reveal())
    .filter((v) => v.length > 0)
    .sort((a, b) => b.length - a.length);
  let out = text;
  for (const v of values) out = out.split(v).join(REDACTED);
  return out;
}

/**
 * A secret computed from another (HMAC-SHA256 of the purpose, keyed by the parent): the same on every
 * host and every run, useless for recovering the parent, and different for each purpose.
 */
export function deriveSecret(parent: Secret, purpose: string): Secret {
  return new Secret(createHmac('sha256', parent.reveal()).update(purpose).digest('hex'), `derived from ${parent.source} (${purpose})`);
}
