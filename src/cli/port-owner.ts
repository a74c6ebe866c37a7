import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * The process listening on a TCP port, as `pid 123 (node)`, when Linux's /proc shows it to us
 * (sockets of other users' processes are not visible); undefined elsewhere or when unknown.
 */
export function portOwner(port: number): string | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let lines: string[];
    try {
      lines = readFileSync(table, 'utf8').split('\n').slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT; state 0A is LISTEN; field 9 is the socket's inode.
      if (fields[3] === '0A' && Number.parseInt(fields[1]?.split(':').pop() ?? '', 16) === port && fields[9]) inodes.add(fields[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const pid of safeReaddir('/proc').filter((name) => /^\d+$/.test(name))) {
    for (const fd of safeReaddir(`/proc/${pid}/fd`)) {
      const target = safeReadlink(`/proc/${pid}/fd/${fd}`);
      if (target?.startsWith('socket:[') && inodes.has(target.slice(8, -1))) {
        const name = safeRead(`/proc/${pid}/comm`)?.trim();
        return name ? `pid ${pid} (${name})` : `pid ${pid}`;
      }
    }
  }
  return undefined;
}

function safeReaddir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

function safeReadlink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

function safeRead(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
