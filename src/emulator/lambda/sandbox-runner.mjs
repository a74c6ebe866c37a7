// The child process one Lambda invocation runs in (src/emulator/lambda/sandbox.ts starts it). Plain
// JavaScript because it runs under bare `node`, outside the TypeScript loader. Node 20's permission
// model (--experimental-permission) already refuses child processes, workers, native bindings and
// file access outside the allowed paths; it has no network permission, so the network modules are
// disabled here before the handler is loaded, with properties the handler cannot redefine.
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

function refuse(what) {
  return function refused() {
    const error = new Error(`${what} is not allowed in this sandbox: handlers have no network`);
    error.code = 'ERR_ACCESS_DENIED';
    throw error;
  };
}

function lock(target, key, what) {
  Object.defineProperty(target, key, { value: refuse(what), writable: false, configurable: false, enumerable: true });
}

const net = require('node:net');
lock(net.Socket.prototype, 'connect', 'net.Socket.connect');
lock(net.Server.prototype, 'listen', 'net.Server.listen');
for (const key of ['connect', 'createConnection', 'createServer']) lock(net, key, `net.${key}`);
const dgram = require('node:dgram');
for (const key of ['bind', 'send', 'connect']) lock(dgram.Socket.prototype, key, `dgram.Socket.${key}`);
lock(dgram, 'createSocket', 'dgram.createSocket');
for (const name of ['node:http', 'node:https', 'node:http2', 'node:tls']) {
  const module = require(name);
  for (const key of ['request', 'get', 'connect', 'createServer', 'createSecureServer']) {
    if (typeof module[key] === 'function') lock(module, key, `${name.slice(5)}.${key}`);
  }
}
const dns = require('node:dns');
for (const target of [dns, dns.promises, dns.Resolver.prototype, dns.promises.Resolver.prototype]) {
  for (const key of Object.keys(target)) {
    if (typeof target[key] === 'function' && (key.startsWith('resolve') || key.startsWith('lookup') || key === 'reverse')) lock(target, key, `dns.${key}`);
  }
}
for (const key of ['fetch', 'WebSocket', 'EventSource']) {
  if (key in globalThis) Object.defineProperty(globalThis, key, { value: refuse(key), writable: false, configurable: false });
}
syncBuiltinESMExports();

const errorOf = (error) => ({
  errorType: error instanceof Error ? error.name : typeof error,
  errorMessage: error instanceof Error ? error.message : String(error),
  trace: error instanceof Error && error.stack ? error.stack.split('\n') : [],
});

process.once('message', async ({ handlerFile, event, context }) => {
  let reply;
  try {
    const module = await import(pathToFileURL(handlerFile).href);
    if (typeof module.handler !== 'function') throw new TypeError(`${handlerFile} exports no function "handler"`);
    process.send({ started: true });
    const result = await module.handler(event, context);
    reply = { ok: true, result: result === undefined ? null : result };
  } catch (error) {
    reply = { ok: false, error: errorOf(error) };
  }
  process.send(reply, () => process.exit(0));
});
