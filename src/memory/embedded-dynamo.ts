import { mkdirSync } from 'node:fs';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface EmbeddedDynamo {
  endpoint: string;
  /** The dynalite child process. */
  pid: number;
  /** Settles when the child process exits without being asked to: its history is unreachable from then on. */
  failed: Promise<Error>;
  close(): Promise<void>;
}

/**
 * Starts dynalite on 127.0.0.1 with its LevelDB under `<dataDir>/dynamo`, so a first-time user's
 * history survives a restart without AWS. The real DynamoDB client talks to it over HTTP. It runs in
 * a child process: in the server's own process its request parsing and LevelDB work took about 12%
 * of the CPU at 1,000 concurrent calls (bench/calls.ts profile) and stretched every turn.
 * `port` 0 takes any free one; a restart passes the port the first start got, so clients keep their endpoint.
 */
export async function startEmbeddedDynamo(dataDir: string, port = 0): Promise<EmbeddedDynamo> {
  const path = join(dataDir, 'dynamo');
  mkdirSync(path, { recursive: true });
  const typescript = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(new URL(typescript ? './dynalite-process.ts' : './dynalite-process.js', import.meta.url));
  const child = fork(entry, [path, String(port)], { execArgv: typescript ? ['--import', import.meta.resolve('tsx')] : [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let closing = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const failed = new Promise<Error>((resolve) => child.once('exit', (code, signal) => {
    if (!closing) resolve(new Error(`embedded DynamoDB (dynalite, pid ${child.pid}) exited (${signal ?? `code ${code}`})`));
  }));
  const listening = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { type: string; port?: number; message?: string }) => {
      if (message.type === 'listening' && message.port) resolve(message.port);
      else reject(new Error(`embedded DynamoDB (dynalite) failed to start: ${message.message ?? 'no port'}`));
    });
    child.once('exit', (code) => reject(new Error(`embedded DynamoDB (dynalite) exited with code ${code} before listening`)));
  });
  return {
    endpoint: `http://127.0.0.1:${listening}`,
    pid: child.pid!,
    failed,
    close: async () => {
      closing = true;
      if (child.exitCode === null && child.connected) child.send({ type: 'close' });
      await exited;
    },
  };
}
