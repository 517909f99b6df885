// Remote command lines for the services duet drives, for systemd hosts and for hosts with plain
// init scripts (the fixtures, containers, older systems). Pure: the caller runs them over SSH.
import type { Flavor } from '../inventory/model.ts';
import type { InitSystem } from '../plan/facts.ts';
import { IPTABLES_RULES_PATH, type DesiredFile } from '../render/desired.ts';
import { shellQuote } from '../transport/shell.ts';

export type ServiceAction = 'start' | 'stop' | 'restart' | 'reload';

export function mysqlUnit(flavor: Flavor): string {
  return flavor === 'mariadb' ? 'mariadb' : 'mysql';
}

export function serviceCommand(init: InitSystem, unit: string, action: ServiceAction): string {
  // `service` works with and without systemd, but on systemd hosts it only forwards to systemctl;
  // calling systemctl directly gives its exit codes and messages unchanged.
  return init === 'systemd' ? `systemctl ${action} ${unit}` : `service ${unit} ${action}`;
}

/**
 * Runs a service command so that the daemons it starts do not inherit the SSH channel's pipes (the
 * channel would then never see EOF and the command would hang): output goes to a temporary file,
 * which is printed once the command has returned.
 */
export function withoutInheritedPipes(command: string): string {
  return `out=$(mktemp) && { ${command}; } </dev/null >"$out" 2>&1; rc=$?; cat "$out"; rm -f "$out"; exit $rc`;
}

/** Loads the saved rules into the kernel (the rules file itself is managed as a desired file). */
export function loadFirewallCommand(): string {
  return `iptables-restore < ${IPTABLES_RULES_PATH}`;
}

/** Where the previous copy of a file is kept when duet replaces it. */
export function backupPath(path: string): string {
  return `${path}.duet-bak`;
}

/** The temporary file a new version is uploaded to: beside the target, so the rename is atomic. */
export function stagingPath(path: string): string {
  const slash = path.lastIndexOf('/');
  return `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.duet-new`;
}

/**
 * Checks a staged file with the real tool before it replaces the live one. The iptables check
 * parses and resolves every rule without committing anything. For my.cnf the server parses the
 * options (an unknown option or bad value fails) without starting; --no-defaults is not used so
 * that the check sees the file exactly as the server will.
 */
export function checkCommand(check: NonNullable<DesiredFile['check']>, stagedPath: string, flavor: Flavor): string {
  const q = shellQuote(stagedPath);
  switch (check) {
    case 'iptables-restore':
      return `iptables-restore --test < ${q}`;
    case 'mysqld-options':
      return `${flavor === 'mariadb' ? 'mariadbd' : 'mysqld'} --defaults-file=${q} --help --verbose > /dev/null`;
  }
}
