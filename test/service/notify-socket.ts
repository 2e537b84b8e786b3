import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';

/**
 * A real `$NOTIFY_SOCKET` for tests: a unix datagram socket, bound and read by a small python3
 * process (Node cannot open unix datagram sockets, which is the whole problem notify-sender.ts
 * solves). It records each datagram with the sender's PID (SCM_CREDENTIALS, like systemd) and
 * closes file descriptors passed along (systemd-notify's BARRIER=1 waits for that).
 */

const RECEIVER = String.raw`
import array, json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
address = sys.argv[1]
s.bind("\0" + address[1:] if address.startswith("@") else address)
print(json.dumps({"bound": True}), flush=True)
while True:
    data, anc, _flags, _addr = s.recvmsg(65536, socket.CMSG_SPACE(256))
    pid = None
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = int.from_bytes(payload[0:4], sys.byteorder)
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
            for fd in fds:
                os.close(fd)
    print(json.dumps({"data": data.decode("utf-8", "replace"), "pid": pid}), flush=True)
`;

export interface Datagram {
  data: string;
  pid: number | null;
}

export interface NotifySocket {
  /** The value for NOTIFY_SOCKET. */
  address: string;
  /** Every datagram so far except systemd-notify's BARRIER=1 handshakes. */
  received: Datagram[];
  /** Resolves with the first datagram (old or new) matching `match`. */
  waitFor(match: (d: Datagram) => boolean): Promise<Datagram>;
  close(): Promise<void>;
}


/** A fresh, unused socket path (in its own temp folder) for `openNotifySocket({ path })`. */
export async function freeSocketPath(): Promise<{ path: string; dispose: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'notify-'));
  return { path: path.join(dir, 'notify.sock'), dispose: () => rm(dir, { recursive: true, force: true }) };
}

/** Needs python3: tests check it first with `requireTool`. */
export async function openNotifySocket(options: { abstract?: boolean; path?: string } = {}): Promise<NotifySocket> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'notify-'));
  const address = options.abstract
    ? `@graph-device-agent-test-${randomBytes(6).toString('hex')}`
    : options.path ?? path.join(dir, 'notify.sock');
  const child: ChildProcessWithoutNullStreams = spawn('python3', ['-c', RECEIVER, address], { stdio: ['pipe', 'pipe', 'pipe'] });
  const received: Datagram[] = [];
  const waiters: Array<{ match: (d: Datagram) => boolean; resolve: (d: Datagram) => void }> = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const bound = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the python3 receiver exited (${code}): ${stderr}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const message = JSON.parse(line) as { bound?: boolean } & Datagram;
      if (message.bound) {
        resolve();
        return;
      }
      if (message.data === 'BARRIER=1') return;
      received.push(message);
      for (const waiter of [...waiters]) {
        if (waiter.match(message)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(message);
        }
      }
    });
  });
  await bound;
  return {
    address,
    received,
    waitFor: (match) => {
      const old = received.find(match);
      if (old) return Promise.resolve(old);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
    close: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill();
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
