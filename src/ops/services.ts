// Remote command lines for the services duet drives, for systemd hosts and for hosts with plain
// init scripts (the fixtures, containers, older systems). Pure: the caller runs them over SSH.
import type { Flavor } from '../inventory/model.ts';
import { reloadTlsStatement, serverProcessName, writerRoleScriptSql } from '../mysql/dialect.ts';
import type { InitSystem } from '../plan/facts.ts';
import { AGENT_SERVICE, MAINTENANCE_PATH, type DesiredFile } from '../render/desired.ts';
import { FIREWALL_UNIT, FIREWALL_UNIT_PATH, KERNEL_IPV6_MARKER, NETFILTER_PERSISTENT, rulesPaths, type FirewallBoot } from '../render/firewall-boot.ts';
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

/**
 * (Re)starts the writer agent's service and enables it at boot. Its init script is new to systemd
 * until a daemon-reload (systemd runs it through the sysv generator); update-rc.d links it into the
 * runlevels on hosts without systemd. The fixtures' boot starts it from the init script too.
 */
export function agentServiceCommand(init: InitSystem): string {
  return init === 'systemd'
    ? `systemctl daemon-reload && systemctl enable ${AGENT_SERVICE} && systemctl restart ${AGENT_SERVICE}`
    : `update-rc.d ${AGENT_SERVICE} defaults >/dev/null && service ${AGENT_SERVICE} restart`;
}

/**
 * Makes the running server read its certificate files again (new connections use them; established
 * ones, replication included, keep going), through the command-line client over the local socket.
 */
export function reloadTlsCommand(flavor: Flavor): string {
  return `${writerRoleScriptSql(flavor).client} --batch -e ${shellQuote(reloadTlsStatement(flavor))}`;
}

/**
 * Loads the saved rules into the kernel (the rules files themselves are managed as desired files):
 * IPv4, then IPv6 while the kernel has it; then makes sure the way chosen to load them at boot is
 * switched on. Each step only after the one before succeeded.
 */
export function loadFirewallCommand(boot: FirewallBoot, init: InitSystem, leftovers: readonly string[] = []): string {
  const paths = rulesPaths(boot);
  const load = `iptables-restore < ${paths.v4} && { [ ! -e ${KERNEL_IPV6_MARKER} ] || ip6tables-restore < ${paths.v6}; }`;
  const steps = [load, enableFirewallBootCommand(boot, init), ...leftovers.map((p) => removeBootFileCommand(p, init))];
  return steps.filter((s) => s !== undefined).join(' && ');
}

/** Removes duet's boot file of another way (a unit is disabled first, so systemd forgets it). */
function removeBootFileCommand(path: string, init: InitSystem): string {
  const rm = `rm -f ${shellQuote(path)}`;
  return path === FIREWALL_UNIT_PATH && init === 'systemd' ? `{ systemctl disable -q ${FIREWALL_UNIT} 2>/dev/null || true; } && ${rm} && systemctl daemon-reload` : rm;
}

/** Switches on the way the rules are loaded at boot; undefined when its file is all it takes (ifupdown). */
export function enableFirewallBootCommand(boot: FirewallBoot, init: InitSystem): string | undefined {
  switch (boot) {
    case 'netfilter-persistent':
      return init === 'systemd'
        ? `systemctl enable -q ${NETFILTER_PERSISTENT}.service`
        : `update-rc.d ${NETFILTER_PERSISTENT} defaults >/dev/null && update-rc.d ${NETFILTER_PERSISTENT} enable >/dev/null`;
    case 'systemd':
      return `systemctl daemon-reload && systemctl enable -q ${FIREWALL_UNIT}`;
    case 'ifupdown':
      return undefined;
  }
}

/** Where the previous copy of a file is kept when duet replaces it. */
export function backupPath(path: string): string {
  return `${path}.duet-bak`;
}

/**
 * Keeps the live copy of a file as its backup (before the new one is renamed over it). An ordinary
 * file keeps its mode and owner (cp -p). A secret file's backup is made root-only whatever the old
 * copy's mode was (an old authkeys may have been 0644): any earlier backup is removed, the copy is
 * created under umask 077 so it is never readable by others, and it is set to 0600.
 */
export function backupCommand(file: Pick<DesiredFile, 'path' | 'secret'>): string {
  const target = shellQuote(file.path);
  const backup = shellQuote(backupPath(file.path));
  return file.secret ? `rm -f ${backup} && (umask 077 && cp ${target} ${backup}) && chmod 600 ${backup}` : `cp -p ${target} ${backup}`;
}

/**
 * Puts the backup back over the live file. A secret file is copied into the file in place (plain cp
 * into an existing file keeps that file's mode and owner, which are the desired root-only ones), so
 * the old key never comes back readable by others.
 */
export function restoreCommand(file: Pick<DesiredFile, 'path' | 'secret'>): string {
  return `cp ${file.secret ? '' : '-p '}${shellQuote(backupPath(file.path))} ${shellQuote(file.path)}`;
}

/** Deletes the backups of secret files (their old keys), or undefined when there are none. */
export function removeSecretBackupsCommand(files: Array<Pick<DesiredFile, 'path' | 'secret'>>): string | undefined {
  const backups = files.filter((f) => f.secret).map((f) => shellQuote(backupPath(f.path)));
  return backups.length === 0 ? undefined : `rm -f ${backups.join(' ')}`;
}

/**
 * One shell script, read by `sh` from stdin (so no content, a secret included, is ever on a command
 * line), that uploads every file to its staging path with its owner and mode, under umask 077: a
 * secret file is never readable by others, not even for a moment before chmod. The content travels
 * as base64, so any byte is safe in the here-document.
 */
export function stageScript(files: Array<Pick<DesiredFile, 'path' | 'content' | 'owner' | 'group' | 'mode'>>): string {
  const lines = ['set -e', 'umask 077'];
  for (const file of files) {
    const staged = shellQuote(stagingPath(file.path));
    const dir = file.path.slice(0, file.path.lastIndexOf('/')) || '/';
    lines.push(`mkdir -p ${shellQuote(dir)}`, `base64 -d > ${staged} <<'DUET_STAGED_FILE'`, ...base64Lines(file.content), 'DUET_STAGED_FILE');
    lines.push(`chown ${shellQuote(`${file.owner}:${file.group}`)} ${staged}`, `chmod ${file.mode.toString(8)} ${staged}`);
  }
  return `${lines.join('\n')}\n`;
}

function base64Lines(content: string): string[] {
  const encoded = Buffer.from(content, 'utf8').toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < encoded.length; i += 76) lines.push(encoded.slice(i, i + 76));
  return lines;
}

/**
 * One remote command that puts staged files in place, in order: for each, its backup kept and the
 * staged copy renamed over the target (or, `metadataOnly`, the owner and mode fixed in place), then
 * `installed N` printed. It stops at the first failure, so the lines printed say which were installed.
 */
export function installScript(files: Array<{ file: Pick<DesiredFile, 'path' | 'secret' | 'owner' | 'group' | 'mode'>; backup: boolean; metadataOnly: boolean }>): string {
  return files
    .map(({ file, backup, metadataOnly }, i) => {
      const target = shellQuote(file.path);
      const command = metadataOnly
        ? `chown ${shellQuote(`${file.owner}:${file.group}`)} ${target} && chmod ${file.mode.toString(8)} ${target}`
        : `${backup ? `${backupCommand(file)} && ` : ''}mv -f ${shellQuote(stagingPath(file.path))} ${target}`;
      return `${command} || exit 1\necho installed ${i}`;
    })
    .join('\n');
}

/** The indexes `installScript` printed: the files that were put in place. */
export function parseInstalled(stdout: string): number[] {
  return stdout
    .split('\n')
    .map((line) => /^installed (\d+)$/.exec(line.trim()))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]));
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
    case 'ip6tables-restore':
      // A kernel without IPv6 cannot test them, and never loads them (see loadFirewallCommand).
      return `[ ! -e ${KERNEL_IPV6_MARKER} ] || ip6tables-restore --test < ${q}`;
    case 'mysqld-options':
      return `${serverProcessName(flavor)} --defaults-file=${q} --help --verbose > /dev/null`;
    case 'haproxy':
      // Parses the whole file and resolves users, addresses and paths; starts nothing.
      return `haproxy -c -f ${q}`;
  }
}

/**
 * Keeps duet's monitor on a host from acting for `seconds` (0: ends the window): the monitor ignores
 * the file once the time in it has passed, so a provision that dies cannot disable it for good.
 */
export function maintenanceCommand(seconds: number): string {
  return seconds > 0 ? `echo $(($(date +%s) + ${seconds})) > ${MAINTENANCE_PATH}` : `rm -f ${MAINTENANCE_PATH}`;
}

/**
 * Waits on the host (no polling over SSH) until it holds `address`, at most `seconds`: exits 0 once
 * it does, 1 when the time is up.
 */
export function awaitAddressCommand(address: string, seconds: number): string {
  const pattern = shellQuote(` ${address}/`);
  return `end=$(($(date +%s) + ${Math.max(1, Math.ceil(seconds))})); while [ "$(date +%s)" -lt "$end" ]; do ip -4 -o addr show | grep -qF ${pattern} && exit 0; sleep 0.25; done; exit 1`;
}

/** Which resources Heartbeat on this host holds: all, local, foreign, none, or transition while it moves them. */
export const HEARTBEAT_RESOURCES_COMMAND = 'cl_status rscstatus';

/**
 * Starts the resource group whose first resource is `group` (ResourceManager takegroup, as Heartbeat
 * does), only while Heartbeat on this host says it holds its own resources (rscstatus local or all):
 * for resources Heartbeat believes it started but did not. Otherwise prints the status and exits 3.
 */
export function takeGroupCommand(group: string): string {
  return `s=$(${HEARTBEAT_RESOURCES_COMMAND} 2>/dev/null); case "$s" in local|all) /usr/share/heartbeat/ResourceManager takegroup ${shellQuote(group)};; *) echo "$s"; exit 3;; esac`;
}
