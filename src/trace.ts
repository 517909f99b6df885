// --verbose: every remote command and SQL statement, as it runs, on one sink (stderr) for the whole
// process. Off unless a command turns it on. Lines are built only when it is on.
import { Secret } from './inventory/secret.ts';

let sink: ((line: string) => void) | undefined;

/** Turns tracing on (a sink) or off (undefined). */
export function setTraceSink(next: ((line: string) => void) | undefined): void {
  sink = next;
}

export function tracing(): boolean {
  return sink !== undefined;
}

export function trace(line: () => string): void {
  if (sink) sink(line());
}

/** A remote command as traced: its first line, and how many more there are (scripts are long). */
export function traceCommand(host: string, command: string, withStdin: boolean): string {
  const lines = command.trim().split('\n');
  const more = lines.length > 1 ? ` ... (${lines.length} lines)` : '';
  return `${host} $ ${lines[0] ?? ''}${more}${withStdin ? ' (with input on stdin, not shown)' : ''}`;
}

/** An SQL statement as traced: the text (placeholders only) and its parameters, secrets redacted. */
export function traceSql(host: string, sql: string, params: readonly unknown[]): string {
  return `${host} SQL> ${sqlText(sql, params)}`;
}

/** A statement on one line with its parameters after it, a secret as [redacted] (the trace's and the audit log's form). */
export function sqlText(sql: string, params: readonly unknown[]): string {
  const shown = params.map((p) => (p instanceof Secret ? '[redacted]' : JSON.stringify(p)));
  return `${sql.replace(/\s+/g, ' ').trim()}${shown.length > 0 ? `  -- ${shown.join(', ')}` : ''}`;
}
