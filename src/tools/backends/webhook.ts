import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { context, propagation } from '@opentelemetry/api';
import { z } from 'zod';
import type { ToolContext, ToolDefinition, ToolOutput } from '../types.js';
import { createAddressGuard, type Resolve } from './address-guard.js';

export interface WebhookToolOptions {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
  /** HTTPS endpoint; plain HTTP only for an allow-listed host. */
  url: string;
  timeoutMs?: number;
  filler?: string;
  /** Largest response body accepted, in bytes. */
  maxResponseBytes: number;
  /** Hosts that may be plain HTTP and may resolve to private or loopback addresses. */
  allowHosts?: string[];
  /** Sent with every request (e.g. an Authorization header); never logged or echoed in errors. */
  headers?: Record<string, string>;
  /** DNS resolution, replaceable in tests. */
  resolve?: Resolve;
}

/** What the webhook may ask for besides its result. */
const transferSchema = z.object({ to: z.string().min(1), reason: z.string().optional() }).optional();

export class WebhookConfigError extends Error {
  override readonly name = 'WebhookConfigError';
}

/**
 * A tool answered by POSTing `{ tool, input, call }` as JSON to a configured URL. The address is
 * checked after DNS resolution and the connection goes to the checked address, so neither a
 * private IP literal nor a rebinding DNS answer can point the tool into the internal network.
 */
export function createWebhookTool(options: WebhookToolOptions): ToolDefinition {
  const url = parseUrl(options);
  const guard = createAddressGuard({ allowHosts: options.allowHosts ?? [], ...(options.resolve ? { resolve: options.resolve } : {}) });
  if (url.protocol === 'http:' && !guard.allowListed(url.hostname)) {
    throw new WebhookConfigError(`Webhook tool "${options.name}": ${url.origin} must use https (plain http only for allow-listed hosts).`);
  }
  return {
    name: options.name,
    description: options.description,
    inputSchema: options.inputSchema,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.filler !== undefined ? { filler: options.filler } : {}),
    async run(input, context) {
      const addresses = await guard.resolve(url.hostname);
      const body = JSON.stringify({ tool: options.name, input, call: callOf(context) });
      const response = await post(url, body, addresses, options, context.signal);
      return parseAnswer(response);
    },
  };
}

function parseUrl(options: WebhookToolOptions): URL {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new WebhookConfigError(`Webhook tool "${options.name}": url is not a valid URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new WebhookConfigError(`Webhook tool "${options.name}": url must be https, got ${url.protocol}`);
  }
  if (url.username || url.password) {
    throw new WebhookConfigError(`Webhook tool "${options.name}": put credentials in headers, not in the url.`);
  }
  return url;
}

const callOf = (context: ToolContext) => ({ callId: context.callId, agent: context.agent, from: context.from, to: context.to });

/** Connects only to addresses the guard has checked: Node's resolver is not asked again. */
const pinnedLookup = (addresses: LookupAddress[]): LookupFunction => (_hostname, lookupOptions, callback) => {
  if (lookupOptions.all) {
    callback(null, addresses);
    return;
  }
  const first = addresses[0] as LookupAddress;
  callback(null, first.address, first.family);
};

function post(url: URL, body: string, addresses: LookupAddress[], options: WebhookToolOptions, signal: AbortSignal): Promise<string> {
  const headers: Record<string, string | number> = {
    ...options.headers,
    'content-type': 'application/json',
    accept: 'application/json',
    'content-length': Buffer.byteLength(body),
  };
  // W3C `traceparent` of the tool's span when traces are on; without a registered propagator, nothing.
  propagation.inject(context.active(), headers);
  const requestOptions: RequestOptions = {
    method: 'POST',
    headers,
    lookup: pinnedLookup(addresses),
    signal,
  };
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(url, requestOptions, (response) => {
      readCapped(response, options.maxResponseBytes).then(resolve, reject);
    });
    request.on('error', (error) => reject(new Error(`webhook request failed: ${error.message}`)));
    request.end(body);
  });
}

function readCapped(response: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      response.resume();
      reject(new Error(`webhook answered HTTP ${status}`));
      return;
    }
    const declared = Number(response.headers['content-length'] ?? 0);
    if (declared > maxBytes) {
      response.destroy();
      reject(new Error(`webhook response of ${declared} bytes is over the limit of ${maxBytes} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        response.destroy();
        reject(new Error(`webhook response is over the limit of ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', (error) => reject(new Error(`webhook response failed: ${error.message}`)));
  });
}

function parseAnswer(text: string): ToolOutput {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new Error('webhook answered with a body that is not JSON');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data) || !('result' in data)) {
    throw new Error('webhook answer must be a JSON object with a "result" field');
  }
  const transfer = transferSchema.safeParse((data as { transfer?: unknown }).transfer);
  if (!transfer.success) throw new Error('webhook answer has an invalid "transfer": expected {"to": string, "reason"?: string}');
  const result = (data as { result: unknown }).result ?? null;
  if (!transfer.data) return { result };
  const { to, reason } = transfer.data;
  return { result, transfer: reason ? { to, reason } : { to } };
}
