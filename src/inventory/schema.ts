// The inventory file's shape (YAML, snake_case keys) with defaults. Cross-field rules (unique
// server ids, VIP in subnet, Heartbeat timing...) live in validate.ts; this is only the shape.
import { z } from 'zod';

const NAME = /^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$/;
// RFC 1123 host name: Heartbeat compares it to `uname -n`.
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
// Schema names as MariaDB accepts them unquoted in binlog_do_db (no commas, no spaces).
const SCHEMA_NAME = /^[A-Za-z0-9_$]{1,64}$/;
const SIZE = /^[0-9]+[KMG]?$/;
// A Linux network interface name (dev_valid_name: at most 15 bytes, no '/', no whitespace, not "."
// or ".."), narrowed to the characters real names use. It is pasted into ha.cf and haresources, where
// a space or a newline would add a directive or a second resource.
const INTERFACE = /^(?!\.{1,2}$)[A-Za-z0-9_.:-]{1,15}$/;
// A login name (POSIX portable, the length MySQL takes): it is also duet's MySQL user, and it ends
// up in SQL the Heartbeat resource script runs.
const LOGIN = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
// Where SSH connects: a host name or an IPv4/IPv6 address. Never starting with '-', which a pasted
// `ssh-keyscan HOST` hint would read as an option.
const SSH_HOST = /^[A-Za-z0-9_.:]([A-Za-z0-9_.:-]{0,252})$/;
const interfaceName = z.string().regex(INTERFACE, "must be a network interface name: 1-15 letters, digits, '_', '.', ':' or '-', e.g. eth0");

const name = (what: string) => z.string().regex(NAME, `must be a ${what}: letters, digits, '.', '_' or '-'`);

export const secretRefSchema = z
  .strictObject({
    env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').optional(),
    file: z.string().min(1).optional(),
  })
  .refine((ref) => (ref.env === undefined) !== (ref.file === undefined), {
    message: 'a secret needs exactly one of `env: VARIABLE` or `file: PATH`',
  });

const port = z.number().int().min(1).max(65535);
const positiveSeconds = z.number().int().min(1);

// user and port have no zod default: a value written in the inventory wins over ssh.config, a
// default does not (load.ts applies the defaults, root and 22, after the config). The `default`
// meta keeps them in inventory/schema.json for editors.
export const sshSchema = z.strictObject({
  user: z
    .string()
    .regex(LOGIN, "must be a login name: up to 32 letters, digits, '_', '.' or '-', not starting with a digit, '.' or '-'")
    .optional()
    .meta({ default: 'root' }),
  port: port.optional().meta({ default: 22 }),
  identity: z.string().min(1).optional(),
  // An OpenSSH client config (Host, HostName, Port, User, IdentityFile, ProxyJump); none by default.
  config: z.string().min(1).optional(),
  known_hosts: z.string().min(1).default('~/.ssh/known_hosts'),
  sudo: z.boolean().default(false),
  connect_timeout: positiveSeconds.default(10),
});

const settingValue = z.union([z.string(), z.number(), z.boolean()]);

export const mysqlSchema = z.strictObject({
  flavor: z.enum(['mariadb', 'mysql']).default('mariadb'),
  databases: z.array(z.string().regex(SCHEMA_NAME, 'must be a plain schema name (letters, digits, _ or $)')).default([]),
  ignore_databases: z.array(z.string().regex(SCHEMA_NAME, 'must be a plain schema name (letters, digits, _ or $)')).default([]),
  auto_increment_increment: z.number().int().min(1).max(65535).default(10),
  expire_logs_days: z.number().int().min(0).max(99).default(10),
  max_binlog_size: z.string().regex(SIZE, 'must be a size such as 100M').default('100M'),
  replication: z.strictObject({
    user: z.string().regex(/^[A-Za-z0-9_]{1,32}$/, 'must be 1-32 letters, digits or _').default('repl'),
    password: secretRefSchema,
  }),
  settings: z
    .record(z.string(), settingValue)
    .default({}),
  // TLS between the peers (replication): the cluster's CA and each node's key and certificate, kept
  // on the controller in `dir` (created by provision, mode 0700; default ~/.duet/tls/<cluster>).
  tls: z
    .strictObject({
      dir: z.string().min(1).optional(),
      /** Validity of a node certificate provision issues. */
      days: z.number().int().min(2).max(3650).default(397),
      /** A node certificate that expires within this many days is issued again. */
      renew_days: z.number().int().min(1).max(3649).default(30),
    })
    .default({ days: 397, renew_days: 30 }),
});

export const nodeSchema = z.strictObject({
  name: z.string().regex(HOSTNAME, 'must be a host name exactly as `uname -n` prints it'),
  address: z.string(),
  server_id: z.number().int(),
  preferred: z.boolean().default(false),
  auto_increment_offset: z.number().int().optional(),
  gtid_domain_id: z.number().int().optional(),
  ssh_host: z.string().regex(SSH_HOST, 'must be a host name or an IP address').optional(),
  ssh_port: port.optional(),
  host_key: z.string().regex(/^(ssh-|ecdsa-)\S+ [A-Za-z0-9+/=]+$/, 'must be a public key line such as "ssh-ed25519 AAAA..."').optional(),
});

export const heartbeatSchema = z.strictObject({
  keepalive: positiveSeconds.default(2),
  warntime: positiveSeconds.optional(),
  deadtime: positiveSeconds.default(30),
  initdead: positiveSeconds.default(120),
  udpport: port.default(694),
  auto_failback: z.boolean().default(false),
  interface: interfaceName.optional(),
  authkey: secretRefSchema,
});

// What duet adds to Heartbeat for unplanned failures (README "Failover"). Timing is checked
// against the pair's deadtime in validate.ts.
export const failoverSchema = z.strictObject({
  ping_node: z.string(),
  monitor_interval: positiveSeconds.default(2),
  monitor_failures: z.number().int().min(1).max(10).default(3),
  flap_window: z.number().int().min(0).default(300),
  stonith_host: z.string().min(1).optional(),
});

const vipSchema = z.strictObject({
  address: z.string(),
  interface: interfaceName.default('eth0'),
});

/** A load balancer host: no server of its own, so only what names it and how SSH reaches it. */
export const loadBalancerNodeSchema = nodeSchema.pick({ name: true, address: true, ssh_host: true, ssh_port: true, host_key: true });

// The load-balanced tier in front of a pair (README "Load balancers"): two HAProxy hosts with their
// own Heartbeat floating IP. Cross-field rules (addresses, subnet, ports) are in validate.ts.
export const loadBalancersSchema = z.strictObject({
  vip: vipSchema,
  /** Where clients connect on the tier's floating IP: writes go to the pair's writer. */
  port: port.default(3306),
  /** Optional second listener that balances reads over both database nodes. */
  read_port: port.optional(),
  /** The writer agent on each database node that HAProxy's health check asks. */
  agent_port: port.default(9200),
  heartbeat: heartbeatSchema,
  nodes: z.array(loadBalancerNodeSchema),
});

export const pairSchema = z.strictObject({
  name: name('pair name'),
  vip: vipSchema,
  heartbeat: heartbeatSchema,
  failover: failoverSchema,
  nodes: z.array(nodeSchema),
  load_balancers: loadBalancersSchema.optional(),
});

export const firewallSchema = z.strictObject({
  manage: z.boolean().default(true),
  // No default: an SSH port open to the world must be asked for (validate.ts requires it when managed).
  ssh_from: z.array(z.string()).optional(),
  mysql_from: z.array(z.string()).default([]),
});

export const hookSchema = z.strictObject({
  run: z.string().min(1),
  timeout: positiveSeconds.max(3600).default(30),
});

export const inventorySchema = z.strictObject({
  cluster: name('cluster name'),
  ssh: sshSchema.default(sshSchema.parse({})),
  mysql: mysqlSchema,
  pairs: z.array(pairSchema).min(1, 'an inventory needs at least one pair'),
  firewall: firewallSchema.default(firewallSchema.parse({})),
  // Commands run on the controller around a swap (src/ops/hooks.ts), and on a node that takes the
  // writer role through Heartbeat (post_failover, from its resource script).
  hooks: z
    .strictObject({
      pre_swap: hookSchema.optional(),
      post_swap: hookSchema.optional(),
      post_failover: hookSchema.optional(),
    })
    .optional(),
  // Where every change duet makes is recorded (one JSON line each); default ~/.duet/log/<cluster>.jsonl.
  audit_log: z.string().min(1).optional(),
});

export type RawInventory = z.infer<typeof inventorySchema>;
export type RawSecretRef = z.infer<typeof secretRefSchema>;
