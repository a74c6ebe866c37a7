import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { AybizaConfig } from '../config/schema.js';
import { startLambdaEmulator, type RunningLambdaEmulator } from '../emulator/lambda/server.js';
import type { Logger } from '../log.js';
import { createExecuteCodeTool, createLambdaClient } from '../tools/backends/lambda.js';
import type { ToolDefinition } from '../tools/types.js';
import type { ChildHandle, ChildSpec, ExitReason } from './child.js';

/** The AWS-backed tools of a node and, in emulator mode, the embedded emulators they talk to. */
export interface ToolBackends {
  /** Root children to start before the call path: the embedded emulators in use. */
  children: ChildSpec[];
  /** The tool definitions, built once the emulators (if any) are up. */
  tools(): ToolDefinition[];
  readonly lambdaEmulator: RunningLambdaEmulator | undefined;
  close(): void;
}

const usesTool = (config: AybizaConfig, name: string): boolean => Object.values(config.agents).some((agent) => agent.tools.includes(name));

/** A child whose value lives until it is stopped; a restart starts a new one on the same port. */
function serviceChild<T extends { port: number; close(): Promise<void> }>(id: string, start: (port: number) => Promise<T>, onStarted: (value: T | undefined) => void): ChildSpec {
  let port = 0;
  return {
    id,
    restart: 'permanent',
    shutdownMs: 2_000,
    backoffMs: { initial: 100, max: 2_000 },
    start: async (): Promise<ChildHandle> => {
      const value = await start(port);
      port = value.port;
      onStarted(value);
      let settle!: (reason: ExitReason) => void;
      const exited = new Promise<ExitReason>((resolve) => (settle = resolve));
      return {
        exited,
        stop: async () => {
          onStarted(undefined);
          await value.close();
          settle({ kind: 'shutdown' });
        },
      };
    },
  };
}

/**
 * Which backends the configuration uses decides what starts: `execute_code` only when an agent
 * names it, the embedded Lambda emulator only in emulator mode without an endpoint.
 */
export function toolBackends(config: AybizaConfig, log: Logger): ToolBackends {
  const clients: Array<{ destroy(): void }> = [];
  const children: ChildSpec[] = [];
  const { executeCode } = config.tools;
  const emulated = config.tools.awsMode === 'emulator';
  let lambdaEmulator: RunningLambdaEmulator | undefined;
  let lambdaEndpoint = executeCode.endpoint;
  const wantsLambda = usesTool(config, 'execute_code');
  if (wantsLambda && emulated && !lambdaEndpoint) {
    children.push(serviceChild('lambda-emulator', async (port) => {
      const started = await startLambdaEmulator({ port, region: config.tools.region, ...(config.tools.lambdaHandlersDir ? { handlersDir: config.tools.lambdaHandlersDir } : {}) });
      lambdaEndpoint = started.url;
      log.info({ event: 'node.lambda_emulator', url: started.url, functions: started.functionNames() }, 'execute_code runs on the embedded Lambda emulator');
      return started;
    }, (value) => (lambdaEmulator = value)));
  }
  let lambda: LambdaClient | undefined;
  const lambdaClient = (): LambdaClient => {
    if (!lambda) {
      lambda = createLambdaClient({ region: config.tools.region, credentials: emulated ? 'emulator' : 'aws', ...(lambdaEndpoint ? { endpoint: lambdaEndpoint } : {}) });
      clients.push(lambda);
    }
    return lambda;
  };
  return {
    children,
    tools: () => (wantsLambda ? [createExecuteCodeTool({ ...executeCode, client: lambdaClient() })] : []),
    get lambdaEmulator() { return lambdaEmulator; },
    close: () => {
      for (const client of clients.splice(0)) client.destroy();
    },
  };
}
