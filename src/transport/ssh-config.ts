// An OpenSSH client config (ssh_config(5)), read the way ssh reads it for the keywords duet honours:
// Host (patterns, `!` negation, `*`/`?`), HostName, Port, User, IdentityFile and ProxyJump, the first
// value found for each keyword winning, Include splicing other files in. Pure: the caller reads the
// files (readInclude) and hands over the text; problems come back with file and line, never thrown.
import { posix } from 'node:path';

/** Where a value was read: for messages that name the exact line to fix. */
export interface ConfigLocation {
  file: string;
  line: number;
}

/** One keyword line: the keyword lowercased (ssh's keywords are case-insensitive), its arguments. */
interface ConfigEntry extends ConfigLocation {
  keyword: string;
  args: string[];
}

/**
 * The lines that apply to a host when every pattern list in `conditions` matches it: [] for lines
 * before the first Host, one list per enclosing Host (an Include inside a Host block adds its list).
 * undefined for a Match block, which duet does not evaluate (its lines never apply).
 */
interface ConfigBlock {
  conditions: string[][] | undefined;
  entries: ConfigEntry[];
}

export interface SshConfig {
  file: string;
  blocks: ConfigBlock[];
}

export interface SshConfigProblem extends ConfigLocation {
  message: string;
  hint?: string;
}

/** An included file, as read by the caller: its absolute path and text. */
export interface IncludedFile {
  file: string;
  text: string;
}

/**
 * Reads the files an Include pattern names (an absolute path, `~` already expanded, wildcards in
 * its last part), sorted by name as ssh's glob does; none when nothing matches (not an error in ssh).
 */
export type IncludeReader = (pattern: string) => IncludedFile[];

export interface ParseContext {
  /** The local user's home directory, for `~` (Include, IdentityFile). */
  home: string;
  readInclude: IncludeReader;
}

const MAX_INCLUDE_DEPTH = 16;

/** Parses a config file and the files it includes. Unknown keywords are skipped, as duet uses only a few. */
export function parseSshConfig(text: string, file: string, ctx: ParseContext): { config: SshConfig; problems: SshConfigProblem[] } {
  const blocks: ConfigBlock[] = [];
  const problems: SshConfigProblem[] = [];
  parseInto(text, file, [], 0, ctx, blocks, problems);
  return { config: { file, blocks }, problems };
}

function parseInto(text: string, file: string, outer: string[][], depth: number, ctx: ParseContext, blocks: ConfigBlock[], problems: SshConfigProblem[]): void {
  let block: ConfigBlock = { conditions: outer, entries: [] };
  blocks.push(block);
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const tokens = splitLine(raw.replace(/\r$/, ''));
    if (tokens === undefined) {
      problems.push({ file, line, message: 'unbalanced quotes', hint: 'close the quoted argument on the same line' });
      return;
    }
    const [first, ...rest] = tokens;
    if (first === undefined) return;
    // `Keyword=value` and `Keyword = value` are the same as `Keyword value`.
    const eq = first.indexOf('=');
    const keyword = (eq >= 0 ? first.slice(0, eq) : first).toLowerCase();
    const args = eq >= 0 ? [first.slice(eq + 1), ...rest].filter((a, i) => i > 0 || a !== '') : rest;
    if (eq < 0 && args[0] === '=') args.shift();
    else if (eq < 0 && args[0]?.startsWith('=')) args[0] = args[0].slice(1);
    if (keyword === 'host') {
      if (args.length === 0) problems.push({ file, line, message: 'Host needs at least one pattern' });
      block = { conditions: [...outer, args], entries: [] };
      blocks.push(block);
    } else if (keyword === 'match') {
      block = { conditions: undefined, entries: [] };
      blocks.push(block);
    } else if (keyword === 'include') {
      if (block.conditions === undefined) return;
      if (depth >= MAX_INCLUDE_DEPTH) {
        problems.push({ file, line, message: `Include nested more than ${MAX_INCLUDE_DEPTH} deep (does a file include itself?)` });
        return;
      }
      for (const pattern of args) {
        const path = includePath(pattern, file, ctx.home);
        for (const included of ctx.readInclude(path)) parseInto(included.text, included.file, block.conditions, depth + 1, ctx, blocks, problems);
      }
      // What follows the Include still belongs to the block it was written in.
      block = { conditions: block.conditions, entries: [] };
      blocks.push(block);
    } else {
      block.entries.push({ file, line, keyword, args });
    }
  });
}

/**
 * ssh's argument splitting: words separated by blanks, double or single quotes around a word with
 * blanks, a backslash escaping a quote or itself, an unquoted `#` starting a comment. undefined
 * when a quote is not closed.
 */
export function splitLine(line: string): string[] | undefined {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i]!)) i++;
    if (i >= line.length || line[i] === '#') break;
    let word = '';
    let quote: string | undefined;
    while (i < line.length && (quote !== undefined || !/\s/.test(line[i]!))) {
      const c = line[i]!;
      if (quote === undefined && (c === '"' || c === "'")) quote = c;
      else if (c === quote) quote = undefined;
      else if (c === '\\' && (line[i + 1] === '"' || line[i + 1] === "'" || line[i + 1] === '\\')) word += line[++i];
      else word += c;
      i++;
    }
    if (quote !== undefined) return undefined;
    words.push(word);
  }
  return words;
}

/** Include paths: `~` is home; a relative path is relative to the including file's folder (~/.ssh for ~/.ssh/config, as ssh does). */
function includePath(pattern: string, file: string, home: string): string {
  const expanded = expandTilde(pattern, home);
  return posix.isAbsolute(expanded) ? expanded : posix.join(posix.dirname(file), expanded);
}

function expandTilde(path: string, home: string): string {
  if (path === '~') return home;
  return path.startsWith('~/') ? posix.join(home, path.slice(2)) : path;
}

/** ssh's host patterns: `*` any run, `?` one character, case-insensitive. */
export function patternMatches(pattern: string, host: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 'i').test(host);
}

/** A Host line's patterns against a host: some pattern matches and no negated one (`!pattern`) does. */
export function hostMatches(patterns: readonly string[], host: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    if (pattern.startsWith('!')) {
      if (patternMatches(pattern.slice(1), host)) return false;
    } else if (patternMatches(pattern, host)) {
      matched = true;
    }
  }
  return matched;
}

export interface Located<T> extends ConfigLocation {
  value: T;
}

/** The keywords duet honours, as the config gives them for one host: the first value of each. */
export interface SshConfigValues {
  hostName?: Located<string>;
  port?: Located<string>;
  user?: Located<string>;
  identityFile?: Located<string>;
  proxyJump?: Located<string>;
}

const KEYWORDS: Record<string, keyof SshConfigValues> = {
  hostname: 'hostName',
  port: 'port',
  user: 'user',
  identityfile: 'identityFile',
  proxyjump: 'proxyJump',
};

/** The first value of each honoured keyword among the blocks that apply to `host` (ssh: first match wins). */
export function configValues(config: SshConfig, host: string): SshConfigValues {
  const found: SshConfigValues = {};
  for (const block of config.blocks) {
    if (block.conditions === undefined || !block.conditions.every((patterns) => hostMatches(patterns, host))) continue;
    for (const entry of block.entries) {
      const key = KEYWORDS[entry.keyword];
      if (key === undefined || found[key] !== undefined || entry.args[0] === undefined) continue;
      found[key] = { value: entry.args[0], file: entry.file, line: entry.line };
    }
  }
  return found;
}

/** One SSH connection to go through before the next (ProxyJump), resolved through the config. */
export interface SshHop {
  /** As ProxyJump names it (a config alias or a host). */
  alias: string;
  host: string;
  port: number;
  user: string;
  /** Absolute path of the private key; undefined: the caller's default (ssh.identity, ssh-agent). */
  identity: string | undefined;
}

/** What the config says about one host, checked and expanded. Unset keywords are undefined. */
export interface SshHostConfig {
  hostName: string | undefined;
  port: number | undefined;
  user: string | undefined;
  identity: string | undefined;
  /** The hops before this host, in order; [] for a direct connection (none, or `ProxyJump none`). */
  jumps: SshHop[];
}

export interface ResolveContext {
  home: string;
  /** The local OS user: a jump host's default login, as ssh's. */
  localUser: string;
}

const LOGIN = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
const HOST = /^[A-Za-z0-9_.:-]+$/;
const MAX_JUMPS = 8;

/**
 * Resolves `alias` (the name ssh would be given) through the config: HostName (%h and %%),
 * Port, User, IdentityFile (~, %d %u %h %n %r %p %%; relative to the config's folder) and
 * ProxyJump ([user@]host[:port], comma-separated; each hop resolved through the config too,
 * including its own ProxyJump). Problems name the file and line of the value.
 */
export function resolveSshHost(config: SshConfig, alias: string, ctx: ResolveContext): { host: SshHostConfig; problems: SshConfigProblem[] } {
  const problems: SshConfigProblem[] = [];
  const host = resolve(config, alias, ctx, problems, []);
  return { host, problems };
}

function resolve(config: SshConfig, alias: string, ctx: ResolveContext, problems: SshConfigProblem[], chain: string[]): SshHostConfig {
  const values = configValues(config, alias);
  const fail = (at: ConfigLocation, message: string, hint?: string) => {
    problems.push({ file: at.file, line: at.line, message, ...(hint ? { hint } : {}) });
    return undefined;
  };

  let hostName: string | undefined;
  if (values.hostName) {
    const expanded = expandTokens(values.hostName.value, { h: alias });
    if (expanded === undefined) fail(values.hostName, `HostName ${values.hostName.value}: only %h and %% are expanded there`);
    else if (!HOST.test(expanded) || expanded.startsWith('-')) fail(values.hostName, `HostName ${expanded} is not a host name or an IP address`);
    else hostName = expanded;
  }

  let port: number | undefined;
  if (values.port) {
    const n = /^\d{1,5}$/.test(values.port.value) ? Number(values.port.value) : NaN;
    if (!(n >= 1 && n <= 65535)) fail(values.port, `Port ${values.port.value} is not a port number (1-65535)`);
    else port = n;
  }

  let user: string | undefined;
  if (values.user) {
    if (!LOGIN.test(values.user.value)) fail(values.user, `User ${values.user.value} is not a login name (letters, digits, '_', '.' or '-', not starting with a digit, '.' or '-')`);
    else user = values.user.value;
  }

  let identity: string | undefined;
  if (values.identityFile && values.identityFile.value.toLowerCase() !== 'none') {
    const tokens = { d: ctx.home, u: ctx.localUser, h: hostName ?? alias, n: alias, r: user ?? ctx.localUser, p: String(port ?? 22) };
    const expanded = expandTokens(expandTilde(values.identityFile.value, ctx.home), tokens);
    if (expanded === undefined) fail(values.identityFile, `IdentityFile ${values.identityFile.value}: an unknown %-token (known: %d %u %h %n %r %p %%)`);
    else identity = posix.isAbsolute(expanded) ? expanded : posix.join(posix.dirname(values.identityFile.file), expanded);
  }

  const jumps: SshHop[] = [];
  const jump = values.proxyJump;
  if (jump && jump.value.toLowerCase() !== 'none') {
    if (chain.length >= MAX_JUMPS || chain.includes(alias)) {
      fail(jump, `ProxyJump loops or goes more than ${MAX_JUMPS} hops deep (${[...chain, alias].join(' -> ')})`);
    } else {
      for (const spec of jump.value.split(',')) {
        const parsed = parseJump(spec);
        if (!parsed) {
          fail(jump, `ProxyJump ${spec} is not [user@]host[:port]`);
          continue;
        }
        const via = resolve(config, parsed.host, ctx, problems, [...chain, alias]);
        jumps.push(...via.jumps, {
          alias: parsed.host,
          host: via.hostName ?? parsed.host,
          port: parsed.port ?? via.port ?? 22,
          user: parsed.user ?? via.user ?? ctx.localUser,
          identity: via.identity,
        });
      }
    }
  }
  return { hostName, port, user, identity, jumps };
}

/** `[user@]host[:port]`, `[user@][v6addr][:port]` or `ssh://[user@]host[:port]`. */
export function parseJump(spec: string): { user?: string; host: string; port?: number } | undefined {
  const m = /^(?:ssh:\/\/)?(?:([^@\s/]+)@)?(\[[0-9A-Fa-f:.]+\]|[^:@\s/[\]]+)(?::(\d{1,5}))?\/?$/.exec(spec.trim());
  if (!m) return undefined;
  const [, user, rawHost, rawPort] = m;
  const host = rawHost!.replace(/^\[(.*)\]$/, '$1');
  if (!HOST.test(host) || host.startsWith('-')) return undefined;
  if (user !== undefined && !LOGIN.test(user)) return undefined;
  const port = rawPort === undefined ? undefined : Number(rawPort);
  if (port !== undefined && !(port >= 1 && port <= 65535)) return undefined;
  return { host, ...(user === undefined ? {} : { user }), ...(port === undefined ? {} : { port }) };
}

/** Replaces %X tokens from `tokens` (and %% by %); undefined when an unknown token is used. */
export function expandTokens(text: string, tokens: Record<string, string>): string | undefined {
  let unknown = false;
  const out = text.replace(/%(.)/g, (_, c: string) => {
    if (c === '%') return '%';
    const value = tokens[c];
    if (value === undefined) unknown = true;
    return value ?? '';
  });
  if (unknown || /%$/.test(text.replace(/%%/g, ''))) return undefined;
  return out;
}
