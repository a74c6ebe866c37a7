// Tries every way out of the sandbox and reports what each attempt met.
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';

const attempt = async (run) => {
  try {
    await run();
    return 'allowed';
  } catch (error) {
    return error.code ?? error.name;
  }
};

export async function handler(event) {
  const tcp = () => new Promise((resolve, reject) => {
    const socket = net.connect(event.port, '127.0.0.1', () => { socket.destroy(); resolve(); });
    socket.on('error', reject);
  });
  return {
    net: await attempt(tcp),
    fetch: await attempt(() => fetch(`http://127.0.0.1:${event.port}/`)),
    http: await attempt(async () => (await import('node:http')).get(`http://127.0.0.1:${event.port}/`)),
    dgram: await attempt(async () => (await import('node:dgram')).createSocket('udp4').send('x', event.port, '127.0.0.1')),
    dns: await attempt(async () => (await import('node:dns')).promises.lookup('localhost')),
    childProcess: await attempt(async () => (await import('node:child_process')).execSync('true')),
    readOutside: await attempt(() => readFileSync('/etc/hostname')),
    writeScratch: await attempt(() => writeFileSync('scratch.txt', 'ok')),
    eval: await attempt(() => new Function('return 1')()),
  };
}
