import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

/**
 * Entry of the child process that runs dynalite for `startEmbeddedDynamo`: DynamoDB emulation and
 * LevelDB cost as much CPU as a call's own work, so they get an event loop of their own. Reports
 * its port over IPC, closes on `close`, and exits when its parent goes away.
 */
const path = process.argv[2];
const port = Number(process.argv[3] ?? 0);
if (!path || !process.send) throw new Error('dynalite-process: expected a data path argument and an IPC channel');

const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
const close = () => server.close(() => process.exit(0));
server.once('error', (error) => {
  process.send!({ type: 'error', message: error.message });
  process.exit(1);
});
server.listen(port, '127.0.0.1', () => process.send!({ type: 'listening', port: (server.address() as AddressInfo).port }));
process.on('message', (message: { type?: string }) => {
  if (message?.type === 'close') close();
});
process.on('disconnect', close);
// A Ctrl-C reaches the whole process group: the parent flushes its write-behind queue into this
// process first and then closes it, so the signals are the parent's to act on.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
