import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** A span as an OTLP receiver sees it: ids in hex, times in epoch nanoseconds, attributes decoded. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, unknown>;
  status: { code: number; message: string };
  resource: Record<string, unknown>;
}

export interface OtlpReceiver {
  /** The traces endpoint, for `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`. */
  tracesUrl: string;
  spans: ReceivedSpan[];
  /** Content types of the requests received (the exporter's is `application/x-protobuf`). */
  contentTypes: string[];
  close(): Promise<void>;
}

/**
 * An OTLP/HTTP trace receiver on an ephemeral port that decodes `ExportTraceServiceRequest`
 * protobuf bodies (opentelemetry-proto's trace/v1 field numbers) with a wire-format reader of its
 * own, so the test checks the bytes the exporter really sends.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      contentTypes.push(String(request.headers['content-type']));
      let body = Buffer.concat(chunks);
      if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      spans.push(...decodeExportRequest(body));
      // An empty ExportTraceServiceResponse: everything accepted.
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    tracesUrl: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    contentTypes,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

type Field = { number: number; wire: number; varint?: bigint; bytes?: Buffer; fixed?: Buffer };

/** The fields of one protobuf message, in order. */
function fields(buffer: Buffer): Field[] {
  const out: Field[] = [];
  let offset = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buffer[offset++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (offset < buffer.length) {
    const key = Number(varint());
    const field: Field = { number: key >> 3, wire: key & 7 };
    if (field.wire === 0) field.varint = varint();
    else if (field.wire === 1) { field.fixed = buffer.subarray(offset, offset + 8); offset += 8; }
    else if (field.wire === 5) { field.fixed = buffer.subarray(offset, offset + 4); offset += 4; }
    else if (field.wire === 2) {
      const length = Number(varint());
      field.bytes = buffer.subarray(offset, offset + length);
      offset += length;
    } else throw new Error(`unsupported protobuf wire type ${field.wire}`);
    out.push(field);
  }
  return out;
}

const each = (buffer: Buffer, number: number): Buffer[] => fields(buffer).filter((f) => f.number === number && f.bytes).map((f) => f.bytes!);
const string = (buffer: Buffer, number: number): string => each(buffer, number)[0]?.toString('utf8') ?? '';
const hex = (buffer: Buffer, number: number): string => each(buffer, number)[0]?.toString('hex') ?? '';

function anyValue(buffer: Buffer): unknown {
  const [field] = fields(buffer);
  if (!field) return undefined;
  switch (field.number) {
    case 1: return field.bytes!.toString('utf8');
    case 2: return field.varint === 1n;
    case 3: return Number(BigInt.asIntN(64, field.varint!));
    case 4: return field.fixed!.readDoubleLE(0);
    case 5: return each(field.bytes!, 1).map(anyValue);
    default: return field.bytes?.toString('hex');
  }
}

function attributes(buffer: Buffer, number: number): Record<string, unknown> {
  return Object.fromEntries(each(buffer, number).map((kv) => [string(kv, 1), anyValue(each(kv, 2)[0] ?? Buffer.alloc(0))]));
}

function decodeExportRequest(body: Buffer): ReceivedSpan[] {
  return each(body, 1).flatMap((resourceSpans) => {
    const resource = attributes(each(resourceSpans, 1)[0] ?? Buffer.alloc(0), 1);
    return each(resourceSpans, 2).flatMap((scopeSpans) => each(scopeSpans, 2).map((span): ReceivedSpan => {
      const all = fields(span);
      const fixed64 = (number: number) => all.find((f) => f.number === number)?.fixed?.readBigUInt64LE(0) ?? 0n;
      const status = each(span, 15)[0];
      const statusFields = status ? fields(status) : [];
      return {
        traceId: hex(span, 1),
        spanId: hex(span, 2),
        parentSpanId: hex(span, 4),
        name: string(span, 5),
        kind: Number(all.find((f) => f.number === 6)?.varint ?? 0n),
        startNs: fixed64(7),
        endNs: fixed64(8),
        attributes: attributes(span, 9),
        status: { code: Number(statusFields.find((f) => f.number === 3)?.varint ?? 0n), message: status ? string(status, 2) : '' },
        resource,
      };
    }));
  });
}
