// Starts the real Halyard binary in demo mode for one test file and offers
// the admin API calls the tests drive it with.
//
// HALYARD_BIN names a prebuilt binary (CI builds it once); without it the
// binary is built from the repository with `go build`.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

// Node's own fetch, also when lib/browser.mjs has replaced the global one.
const fetch = globalThis[Symbol.for('halyard.nodeFetch')] ?? globalThis.fetch;

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

/** A free loopback TCP port (the kernel picks it; Halyard binds it next). */
async function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

function binary(dir) {
  if (process.env.HALYARD_BIN) return resolve(process.env.HALYARD_BIN);
  const out = join(dir, 'halyard');
  execFileSync('go', ['build', '-o', out, './cmd/halyard'], {
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, PATH: `/usr/local/go/bin:${process.env.PATH}` },
  });
  return out;
}

/**
 * Starts `halyard --demo` on a free port with a fresh data dir and waits for
 * GET /readyz 200 and every demo user monitored. Returns a handle with the base URL, admin helpers and
 * stop().
 */
export async function startHalyard({ users = 20 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'halyard-clients-'));
  const bin = binary(dir);
  const adminToken = 'admin-' + Math.random().toString(36).slice(2);
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  const origin = `http://${addr}`;
  let child;
  let exited = null;
  let log = '';
  const keep = (b) => {
    log += b;
    if (log.length > 200_000) log = log.slice(-100_000);
  };

  // launch starts the process and waits for /readyz; the data dir and port
  // are kept across restarts.
  async function launch() {
    exited = null;
    child = spawn(
      bin,
      ['--demo', '--demo-users', String(users), '--demo-churn', '0', '--addr', addr, '--data-dir', join(dir, 'data')],
      { env: { ...process.env, ADMIN_TOKEN: adminToken }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const proc = child;
    const reap = () => proc.kill('SIGKILL'); // never outlive the test process
    process.once('exit', reap);
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      process.off('exit', reap);
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (exited) throw new Error(`halyard exited early (${JSON.stringify(exited)}):\n${log}`);
      try {
        // /readyz turns 200 at the gateway's READY, before the member sync
        // has filled the hub: also wait until every demo user is monitored.
        const r = await fetch(`${origin}/readyz`);
        if (r.status === 200) {
          const info = await (await fetch(`${origin}/`)).json();
          // The bot is a member of its guild too, monitored like anyone.
          if (info.data.monitored_user_count === users + 1) return;
        }
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`halyard not ready after 60 s:\n${log}`);
      }
      await sleep(100);
    }
  }

  async function terminate() {
    if (exited) return;
    const done = new Promise((res) => child.once('exit', res));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(t);
  }

  await launch();

  const admin = async (method, path, body) => {
    const r = await fetch(`${origin}/admin/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`admin ${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };

  return {
    origin,
    host: addr,
    port,
    get log() {
      return log;
    },
    /** Monitored users, id order: [{id, username, status}]. */
    async users() {
      return (await admin('GET', '/users?limit=1000')).users;
    },
    /** Issues (rotates) the user's API token — the Lanyard KV key. */
    async token(id) {
      return (await admin('POST', `/users/${id}/token`)).token;
    },
    /** Dispatches a Discord PRESENCE_UPDATE `d` through the simulator's gateway. */
    async presence(d) {
      return admin('POST', '/demo/presence', d);
    },
    /** Adds a Discord member object to the demo guild. */
    async addMember(member) {
      return admin('POST', '/demo/members', member);
    },
    /** What Halyard's Lanyard REST route holds for the user: the `data` object. */
    async lanyardUser(id) {
      const r = await fetch(`${origin}/v1/users/${id}`);
      const body = await r.json();
      if (!body.success) throw new Error(`GET /v1/users/${id}: ${r.status} ${JSON.stringify(body)}`);
      return body.data;
    },
    /** What Halyard's Lantern REST route holds for the user. */
    async lanternUser(id) {
      const r = await fetch(`${origin}/api/v1/users/${id}`);
      if (r.status !== 200) throw new Error(`GET /api/v1/users/${id}: ${r.status} ${await r.text()}`);
      return r.json();
    },
    /** Stops the process, stays down for downMs, starts it again (same port and data). */
    async restart({ downMs = 0 } = {}) {
      await terminate();
      await sleep(downMs);
      await launch();
    },
    async stop() {
      await terminate();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls fn until it returns a truthy value, or fails with the last state. */
export async function waitFor(fn, { timeout = 10_000, interval = 25, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.stack : JSON.stringify(last)}`);
    }
    await sleep(interval);
  }
}

/**
 * A distinct, recognisable presence for a user: online on desktop and web
 * with one game activity whose `details` carries the marker.
 */
export function markedPresence(id, marker, status = 'online') {
  return {
    user: { id },
    status,
    client_status: { desktop: status, web: status },
    activities: [
      {
        name: 'Halyard client test',
        type: 0,
        id: 'halyardtest',
        created_at: 1795338000000,
        details: marker,
        state: 'compat',
        timestamps: { start: 1795338000000 },
      },
    ],
  };
}
