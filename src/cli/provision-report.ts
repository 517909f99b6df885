// Human-readable provision output: the plan before anything changes, the outcome after.
import type { ProvisionReport } from '../ops/provision.ts';

export function formatPlan(report: ProvisionReport): string {
  const out: string[] = [];
  for (const action of report.tls) out.push(`tls: ${action}`);
  for (const host of report.hosts) {
    const firewall = host.firewall && `  firewall at boot: ${host.firewall.loadedBy} (${host.firewall.reason})${host.firewall.ipv6 === 'off' ? '; IPv6 is off in the kernel: its rules are installed, not loaded' : ''}`;
    if (host.changes.length === 0 && host.repairs.length === 0) {
      out.push(`${host.host}: no file changes`);
      if (firewall) out.push(firewall);
      continue;
    }
    const files = host.changes.length === 0 ? 'no file changes' : `${host.changes.length} file change(s)`;
    out.push(`${host.host}: ${files}; then: ${host.services.length ? host.services.join(', ') : 'no service action'}`);
    for (const c of host.changes) {
      out.push(`  ${c.action} ${c.path} (${c.reasons.join('; ')})`);
      if (c.diff) out.push(...c.diff.split('\n').filter((l) => l !== '' && !l.startsWith('=====')).map((l) => `    ${l}`));
    }
    for (const r of host.repairs) out.push(`  repair ${r.service}: ${r.reasons.join('; ')}`);
    if (firewall) out.push(firewall);
  }
  for (const pair of report.pairs) {
    out.push(`pair ${pair.pair}: writer ${pair.writer}; ${pair.planned.length === 0 ? 'nothing to change' : `${pair.planned.length} action(s):`}`);
    for (const action of pair.planned) out.push(`  ${action.text}`);
  }
  return out.join('\n');
}

export function formatOutcome(report: ProvisionReport): string {
  const out: string[] = [];
  for (const host of report.hosts) {
    out.push(`${host.host}: ${host.status}${host.error ? `: ${host.error}` : ''}`);
  }
  for (const pair of report.pairs) {
    const actions = report.dryRun
      ? `${pair.planned.length} action(s) planned`
      : pair.actions.length
        ? pair.actions.join('; ')
        : 'nothing to change';
    out.push(`pair ${pair.pair}: writer ${pair.writer}; ${actions}${pair.error ? `; FAILED: ${pair.error}` : ''}`);
  }
  for (const tier of report.loadBalancers) {
    const actions = tier.actions.length ? tier.actions.join('; ') : 'nothing to change';
    out.push(`load balancers of pair ${tier.pair}: floating IP on ${tier.holder ?? 'no single load balancer'}; ${actions}${tier.error ? `; FAILED: ${tier.error}` : ''}`);
  }
  const s = report.summary;
  out.push(`summary: ${s.changed} changed, ${s.failed} failed, ${s.unchanged} unchanged${report.dryRun ? ' (dry run: nothing was changed)' : ''}${report.aborted ? ' (aborted: nothing was changed)' : ''}`);
  return out.join('\n');
}
