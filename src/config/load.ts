import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { configSchema, DEFAULT_AGENT, type AybizaConfig } from './schema.js';

/** A configuration the node must not start with. The message lists every problem, one per line. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? `invalid configuration: ${problems[0]}` : `invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

type Path = PropertyKey[];
type Json = Record<string, unknown>;
type Kind = 'string' | 'int' | 'list' | 'boolean' | 'intOrAuto';

interface EnvVar { name: string; path: Path; kind: Kind }

/** Environment variables, in the order the README's table lists them. */
export const ENV_VARS: readonly EnvVar[] = [
  { name: 'AYBIZA_HOST', path: ['server', 'host'], kind: 'string' },
  { name: 'AYBIZA_PORT', path: ['server', 'port'], kind: 'int' },
  { name: 'AYBIZA_METRICS_PORT', path: ['server', 'metricsPort'], kind: 'int' },
  { name: 'AYBIZA_METRICS_HOST', path: ['server', 'metricsHost'], kind: 'string' },
  { name: 'AYBIZA_METRICS_TOKEN', path: ['server', 'metricsToken'], kind: 'string' },
  { name: 'AYBIZA_METRICS_UNAUTHENTICATED', path: ['server', 'metricsUnauthenticated'], kind: 'boolean' },
  { name: 'AYBIZA_API_KEYS', path: ['server', 'apiKeys'], kind: 'list' },
  { name: 'AYBIZA_UNMASKED_NUMBER_KEYS', path: ['server', 'unmaskedNumberKeys'], kind: 'list' },
  { name: 'AYBIZA_ALLOWED_ORIGINS', path: ['server', 'allowedOrigins'], kind: 'list' },
  { name: 'AYBIZA_WORKERS', path: ['server', 'workers'], kind: 'intOrAuto' },
  { name: 'AYBIZA_MAX_CALLS', path: ['server', 'maxCalls'], kind: 'int' },
  { name: 'AYBIZA_MAX_CALLS_PER_KEY', path: ['server', 'maxCallsPerKey'], kind: 'int' },
  { name: 'AYBIZA_HANDSHAKE_TIMEOUT_MS', path: ['server', 'handshakeTimeoutMs'], kind: 'int' },
  { name: 'AYBIZA_START_TIMEOUT_MS', path: ['server', 'startTimeoutMs'], kind: 'int' },
  { name: 'AYBIZA_PING_INTERVAL_MS', path: ['server', 'pingIntervalMs'], kind: 'int' },
  { name: 'AYBIZA_MAX_EVENT_LOOP_LAG_MS', path: ['server', 'maxEventLoopLagMs'], kind: 'int' },
  { name: 'AYBIZA_DRAIN_TIMEOUT_MS', path: ['server', 'drainTimeoutMs'], kind: 'int' },
  // AYBIZA_BEDROCK=aws is the short form the issue tracker and README use; the long form wins.
  { name: 'AYBIZA_BEDROCK', path: ['bedrock', 'mode'], kind: 'string' },
  { name: 'AYBIZA_BEDROCK_MODE', path: ['bedrock', 'mode'], kind: 'string' },
  { name: 'AYBIZA_BEDROCK_ENDPOINT', path: ['bedrock', 'endpoint'], kind: 'string' },
  // AWS_REGION wins over AWS_DEFAULT_REGION, as in the AWS SDKs.
  { name: 'AWS_DEFAULT_REGION', path: ['bedrock', 'region'], kind: 'string' },
  { name: 'AWS_REGION', path: ['bedrock', 'region'], kind: 'string' },
  { name: 'AYBIZA_FALLBACK_REGION', path: ['bedrock', 'fallbackRegion'], kind: 'string' },
  { name: 'AYBIZA_REQUEST_HANDLER', path: ['bedrock', 'requestHandler'], kind: 'string' },
  { name: 'AYBIZA_BEDROCK_DECODER', path: ['bedrock', 'decoder'], kind: 'string' },
  { name: 'AYBIZA_MODEL', path: ['agents', 'default', 'model'], kind: 'string' },
  { name: 'AYBIZA_HOT_MEMORY', path: ['memory', 'hot'], kind: 'string' },
  { name: 'AYBIZA_REDIS_URL', path: ['memory', 'redisUrl'], kind: 'string' },
  { name: 'AYBIZA_DURABLE_MEMORY', path: ['memory', 'durable'], kind: 'string' },
  { name: 'AYBIZA_DYNAMODB_ENDPOINT', path: ['memory', 'dynamoEndpoint'], kind: 'string' },
  { name: 'AYBIZA_DATA_DIR', path: ['memory', 'dataDir'], kind: 'string' },
  { name: 'AYBIZA_FIXTURES_DIR', path: ['tools', 'fixturesDir'], kind: 'string' },
  { name: 'AYBIZA_SPEECH_MODE', path: ['speech', 'mode'], kind: 'string' },
  { name: 'AYBIZA_TRANSCRIBE_ENCODER', path: ['speech', 'transcribeEncoder'], kind: 'string' },
  { name: 'AYBIZA_BROWSER_AUDIO', path: ['speech', 'browserAudio', 'enabled'], kind: 'boolean' },
  { name: 'AYBIZA_BROWSER_AUDIO_SYNTHESIZER', path: ['speech', 'browserAudio', 'synthesizer'], kind: 'string' },
  { name: 'AYBIZA_TWILIO_ACCOUNT_SID', path: ['twilio', 'accountSid'], kind: 'string' },
  { name: 'AYBIZA_TWILIO_AUTH_TOKEN', path: ['twilio', 'authToken'], kind: 'string' },
  { name: 'AYBIZA_TWILIO_PUBLIC_URL', path: ['twilio', 'publicUrl'], kind: 'string' },
  { name: 'AYBIZA_LOG_LEVEL', path: ['log', 'level'], kind: 'string' },
];

const FLAGS: readonly { name: string; key: 'host' | 'port' | 'metricsPort'; path: Path; kind: Kind }[] = [
  { name: '--host', key: 'host', path: ['server', 'host'], kind: 'string' },
  { name: '--port', key: 'port', path: ['server', 'port'], kind: 'int' },
  { name: '--metrics-port', key: 'metricsPort', path: ['server', 'metricsPort'], kind: 'int' },
];

/** Any of these means an AWS credential chain is configured, so `auto` means real Bedrock. */
const CREDENTIAL_VARS = [
  'AWS_ACCESS_KEY_ID', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI',
];

export interface LoadConfigInput {
  /** JSON file; falls back to env AYBIZA_CONFIG. */
  file?: string;
  /** Defaults to process.env. Pass `{}` for a configuration independent of the machine. */
  env?: Record<string, string | undefined>;
  /** Command-line flags of `aybiza serve`, as typed. */
  flags?: { host?: string; port?: string; metricsPort?: string };
  /** Deep-merged last: how CLI code and tests pass values. */
  overrides?: Record<string, unknown>;
}

/**
 * The configuration of this process: defaults < JSON file < environment < flags < overrides.
 * Refuses with a ConfigError naming each bad value's source (variable, flag or JSON path).
 */
export function loadConfig(input: LoadConfigInput = {}): AybizaConfig {
  const env = input.env ?? process.env;
  const problems: string[] = [];
  const file = input.file ?? nonEmpty(env.AYBIZA_CONFIG);
  const fileLayer = file ? readJsonFile(file) : {};

  const envLayer: Json = {};
  const envSource = new Map<string, { name: string; value: string }>();
  for (const variable of ENV_VARS) {
    const raw = nonEmpty(env[variable.name]);
    if (raw === undefined) continue;
    const parsed = parseValue(raw, variable.kind);
    if (parsed === undefined) problems.push(`${variable.name}: got ${show(variable.path, raw)} — expected ${EXPECTED_OF_KIND[variable.kind]}`);
    else setPath(envLayer, variable.path, parsed);
    envSource.set(key(variable.path), { name: variable.name, value: raw });
  }

  const flagLayer: Json = {};
  const flagSource = new Map<string, { name: string; value: string }>();
  for (const flag of FLAGS) {
    const raw = input.flags?.[flag.key];
    if (raw === undefined) continue;
    const parsed = parseValue(raw, flag.kind);
    if (parsed === undefined) problems.push(`${flag.name}: got ${show(flag.path, raw)} — expected an integer`);
    else setPath(flagLayer, flag.path, parsed);
    flagSource.set(key(flag.path), { name: flag.name, value: raw });
  }

  const overrides = input.overrides ?? {};
  const merged = [fileLayer, envLayer, flagLayer, overrides].reduce<Json>((acc, layer) => mergeDeep(acc, layer), {});

  // The demo agent fills in only when nobody defined a default agent; env may still pick its model.
  if (!hasPath(fileLayer, ['agents', 'default']) && !hasPath(overrides, ['agents', 'default'])) {
    const agents = isPlainObject(merged.agents) ? merged.agents : {};
    merged.agents = { ...agents, default: mergeDeep(DEFAULT_AGENT, isPlainObject(agents.default) ? agents.default : {}) };
  }
  const bedrock = isPlainObject(merged.bedrock) ? merged.bedrock : {};
  if (bedrock.mode === undefined || bedrock.mode === 'auto') {
    merged.bedrock = { ...bedrock, mode: CREDENTIAL_VARS.some((name) => nonEmpty(env[name])) ? 'aws' : 'emulator' };
  }

  // Speech bills like Bedrock: `auto` (or nothing) follows the mode Bedrock resolved to.
  const speech = isPlainObject(merged.speech) ? merged.speech : {};
  if (speech.mode === 'auto') merged.speech = { ...speech, mode: undefined };

  /** Who set the value at a path (flag, variable, file or override) and the value as they gave it. */
  const sourceOf = (path: Path): { label: string; value: unknown } => {
    const value = getPath(merged, path);
    if (hasPath(overrides, path)) return { label: pathLabel(path), value };
    // Variables and flags set whole fields; a list item's problem belongs to the variable that set the list.
    for (let length = path.length; length > 0; length -= 1) {
      const k = key(path.slice(0, length));
      const raw = flagSource.get(k) ?? envSource.get(k);
      if (raw) return { label: raw.name, value: raw.value };
      if (hasPath(overrides, path.slice(0, length))) break;
    }
    if (file && hasPath(fileLayer, path)) return { label: `${pathLabel(path)} (in ${file})`, value };
    const k = key(path);
    const envAlternative = [...ENV_VARS].reverse().find((variable) => key(variable.path) === k);
    return { label: envAlternative ? `${envAlternative.name} or ${pathLabel(path)}` : pathLabel(path), value };
  };
  const problem = (path: Path, expected: string) => {
    const { label, value } = sourceOf(path);
    return `${label}: got ${show(path, value)} — expected ${expected}`;
  };

  // A value that failed strict parsing was left out of its layer, so the schema does not report it twice.
  const result = configSchema.safeParse(merged);
  if (result.success) {
    if (problems.length > 0) throw new ConfigError(problems);
    return result.data;
  }
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(issue.path);
      for (const name of issue.keys) {
        problems.push(problem([...issue.path, name], `no such key${known.length ? ` (known: ${known.join(', ')})` : ''}`));
      }
      continue;
    }
    problems.push(problem(issue.path, expectedOf(issue)));
  }
  throw new ConfigError(problems);
}

/**
 * Far beyond any configuration (the deepest field, a webhook's input schema, sits at a dozen), and
 * far below what the recursive merge and zod can walk before the stack overflows.
 */
export const MAX_CONFIG_NESTING = 64;

/**
 * Whether objects and arrays in JSON text nest deeper than `limit`, counted without parsing it, so
 * no recursion ever sees an overly deep document. Brackets inside strings do not count.
 */
function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (inString) {
      if (char === '\\') i += 1;
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
    } else if (char === '{' || char === '[') {
      depth += 1;
      if (depth > limit) return true;
    } else if (char === '}' || char === ']') {
      depth -= 1;
    }
  }
  return false;
}

function readJsonFile(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`${file}: cannot read the configuration file — ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`]);
  }
  if (nestsDeeperThan(text, MAX_CONFIG_NESTING)) {
    throw new ConfigError([`${file}: nested more than ${MAX_CONFIG_NESTING} levels deep — a configuration needs a handful; is this the right file?`]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError([`${file}: invalid JSON — ${(error as Error).message}`]);
  }
  if (!isPlainObject(value)) throw new ConfigError([`${file}: got ${JSON.stringify(value)?.slice(0, 40)} — expected a JSON object`]);
  return value;
}

const EXPECTED_OF_KIND: Record<Kind, string> = {
  string: 'a string', list: 'a list', int: 'an integer', boolean: '1, true, 0 or false', intOrAuto: "an integer or 'auto'",
};

const BOOLEANS = new Map([['1', true], ['true', true], ['0', false], ['false', false]]);

function parseValue(raw: string, kind: Kind): unknown {
  if (kind === 'int') return /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : undefined;
  if (kind === 'boolean') return BOOLEANS.get(raw.trim().toLowerCase());
  if (kind === 'intOrAuto') return raw.trim() === 'auto' ? 'auto' : parseValue(raw, 'int');
  if (kind === 'list') return raw.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
  return raw.trim();
}

function expectedOf(issue: z.core.$ZodIssue): string {
  const custom = !/^(Invalid|Too (small|big)|Unrecognized|Expected)/.test(issue.message);
  if (custom) return issue.message.replace(/^expected /, '');
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? `a value (${issue.expected} required)` : `${article(issue.expected)} ${issue.expected}`;
    case 'too_small':
      return issue.origin === 'string' ? `at least ${issue.minimum} characters`
        : issue.origin === 'array' ? `at least ${issue.minimum} items`
        : `a number ${issue.inclusive === false ? '>' : '≥'} ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'string' ? `at most ${issue.maximum} characters`
        : issue.origin === 'array' ? `at most ${issue.maximum} items`
        : `a number ${issue.inclusive === false ? '<' : '≤'} ${issue.maximum}`;
    case 'invalid_value':
      return `one of ${issue.values.map((value) => JSON.stringify(value)).join(' | ')}`;
    case 'invalid_format':
      return `a valid ${issue.format === 'url' ? 'URL' : issue.format}`;
    default:
      return issue.message;
  }
}

const article = (word: string) => (/^[aeiou]/.test(word) ? 'an' : 'a');

/** The value as an error may show it: secrets hidden, long values cut. */
function show(path: Path, value: unknown): string {
  if (value === undefined) return 'nothing';
  if (path.includes('apiKeys') || path.includes('unmaskedNumberKeys') || path.includes('headers') || path.includes('metricsToken') || path.includes('authToken')) return Array.isArray(value) ? `[${value.length} key(s), hidden]` : '[hidden]';
  const text = JSON.stringify(maskSecrets(value)) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** Hides passwords in URLs anywhere in the value (a Redis URL may carry one). */
function maskSecrets(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@');
  if (Array.isArray(value)) return value.map(maskSecrets);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, /key|secret|password|token/i.test(k) ? '[hidden]' : maskSecrets(v)]));
  return value;
}

interface SchemaNode { _zod: { def: { type: string; in?: SchemaNode; innerType?: SchemaNode; valueType?: SchemaNode; shape?: Record<string, SchemaNode> } } }

/** The keys the schema allows at a path, to name them when an unknown one is given. */
function knownKeys(path: PropertyKey[]): string[] {
  let node: SchemaNode | undefined = configSchema as unknown as SchemaNode;
  const unwrap = (n: SchemaNode | undefined): SchemaNode | undefined => {
    let current = n;
    while (current && ['pipe', 'default', 'prefault', 'optional', 'nullable'].includes(current._zod.def.type)) {
      current = current._zod.def.in ?? current._zod.def.innerType;
    }
    return current;
  };
  for (const segment of path) {
    node = unwrap(node);
    if (!node) return [];
    const { def } = node._zod;
    node = def.type === 'record' ? def.valueType : def.shape?.[String(segment)];
  }
  node = unwrap(node);
  return node?._zod.def.shape ? Object.keys(node._zod.def.shape) : [];
}

const nonEmpty = (value: string | undefined) => (value === undefined || value.trim() === '' ? undefined : value);
const key = (path: PropertyKey[]) => path.map(String).join('\u0000');
const pathLabel = (path: PropertyKey[]) =>
  path.map((segment, i) => (typeof segment === 'number' ? `[${segment}]` : `${i === 0 ? '' : '.'}${String(segment)}`)).join('') || '(root)';

function isPlainObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mergeDeep(base: Json, extra: Json): Json {
  const out: Json = { ...base };
  for (const [k, value] of Object.entries(extra)) {
    if (value === undefined) continue;
    const current = out[k];
    out[k] = isPlainObject(current) && isPlainObject(value) ? mergeDeep(current, value) : value;
  }
  return out;
}

function hasPath(source: unknown, path: Path): boolean {
  return getPath(source, path) !== undefined;
}

function getPath(source: unknown, path: PropertyKey[]): unknown {
  let current = source;
  for (const segment of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

function setPath(target: Json, path: Path, value: unknown): void {
  let current = target;
  for (const segment of path.slice(0, -1).map(String)) {
    const next = current[segment];
    const child = isPlainObject(next) ? next : {};
    current[segment] = child;
    current = child as Json;
  }
  current[String(path[path.length - 1])] = value;
}
