// Choosing nodes and pairs of an inventory by name, for every command: one set of rules and one
// wording for an unknown name (a UsageError, exit 2, before anything is touched).
import { UsageError } from '../errors.ts';
import { allNodes, type Inventory, type NodeSpec, type PairSpec } from './model.ts';

export interface NodeRef {
  pair: PairSpec;
  node: NodeSpec;
}

function nodeList(inv: Inventory): string {
  return `nodes in ${inv.file}: ${allNodes(inv).map(({ node }) => node.name).join(', ')}`;
}

function pairList(inv: Inventory): string {
  return `pairs in ${inv.file}: ${inv.pairs.map((p) => p.name).join(', ')}`;
}

/** The named nodes (every node when `names` is empty), in inventory order. `what` names the option in errors. */
export function selectNodes(inv: Inventory, names: readonly string[] | undefined, what = '--limit'): NodeRef[] {
  const all = allNodes(inv);
  if (!names || names.length === 0) return all;
  const unknown = names.filter((name) => !all.some(({ node }) => node.name === name));
  if (unknown.length > 0) throw new UsageError(`${what} names unknown node(s): ${unknown.join(', ')}`, { hint: nodeList(inv) });
  return all.filter(({ node }) => names.includes(node.name));
}

/** The named pairs (every pair when `names` is empty), in inventory order. */
export function selectPairs(inv: Inventory, names: readonly string[] | undefined, what = '--pair'): PairSpec[] {
  if (!names || names.length === 0) return inv.pairs;
  const unknown = names.filter((name) => !inv.pairs.some((p) => p.name === name));
  if (unknown.length > 0) throw new UsageError(`${what} names unknown pair(s): ${unknown.join(', ')}`, { hint: pairList(inv) });
  return inv.pairs.filter((p) => names.includes(p.name));
}

/** One node by name, with its pair. */
export function locateNode(inv: Inventory, name: string): NodeRef {
  const found = allNodes(inv).find(({ node }) => node.name === name);
  if (!found) throw new UsageError(`no node ${name} in the inventory`, { hint: nodeList(inv) });
  return found;
}

/** The pair of the named node; else the named pair; else the only pair of the inventory. */
export function choosePair(inv: Inventory, node: string | undefined, pairName: string | undefined): PairSpec {
  if (node !== undefined) return locateNode(inv, node).pair;
  if (pairName !== undefined) return selectPairs(inv, [pairName])[0]!;
  if (inv.pairs.length === 1) return inv.pairs[0]!;
  throw new UsageError('the inventory has several pairs: name the node or --pair', { hint: pairList(inv) });
}
