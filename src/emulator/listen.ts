import type { AddressInfo, Server } from 'node:net';

/** Listens on `host:port` (0: any free port), rejecting on a listen error such as EADDRINUSE; answers the bound port and its http URL. */
export function listenOn(server: Server, port: number, host: string): Promise<{ port: number; url: string }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const bound = (server.address() as AddressInfo).port;
      resolve({ port: bound, url: `http://${host}:${bound}` });
    });
  });
}
