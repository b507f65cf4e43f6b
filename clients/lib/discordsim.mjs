// Starts the Discord simulator on its own (discord/discordsim/cmd/discordsim)
// for one test file and offers its control API.
//
// DISCORDSIM_BIN names a prebuilt binary (CI builds it once); without it the
// binary is built from the repository with `go build`.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

function binary(dir) {
  if (process.env.DISCORDSIM_BIN) return resolve(process.env.DISCORDSIM_BIN);
  const out = join(dir, 'discordsim');
  execFileSync('go', ['build', '-o', out, './discord/discordsim/cmd/discordsim'], {
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, PATH: `/usr/local/go/bin:${process.env.PATH}` },
  });
  return out;
}

/**
 * Starts the simulator with `members` synthetic members and resolves once it
 * printed its info line: {gateway, rest, token, bot_id, application_id,
 * guilds, members, control}, plus control helpers and stop().
 */
export async function startSim({ members = 20, heartbeat = '41250ms' } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'discordsim-'));
  const bin = binary(dir);
  const child = spawn(bin, ['--members', String(members), '--heartbeat', heartbeat], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (b) => (log += b));
  const info = await new Promise((res, rej) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => res(JSON.parse(line)));
    child.once('exit', (code) => rej(new Error(`discordsim exited (${code}):\n${log}`)));
  });

  const control = async (method, path, body) => {
    const r = await fetch(`${info.control}${path}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  };
  const must = async (method, path, body) => {
    const r = await control(method, path, body);
    if (r.status >= 300) throw new Error(`discordsim ${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };

  return {
    ...info,
    control,
    /** Dispatches a PRESENCE_UPDATE (the payload as Discord sends it). */
    presence: (d) => must('POST', '/presence', d),
    /** A user DMs the bot; resolves to the DM channel id. */
    dm: async (userId, content) => (await must('POST', '/dm', { user_id: userId, content })).channel_id,
    /** A user runs a registered slash command; resolves to the interaction id. */
    interact: async (guildId, userId, command, options) =>
      (await must('POST', '/interact', { guild_id: guildId, user_id: userId, command, options })).id,
    /** The bot's callback for an interaction, or null while unanswered. */
    interaction: async (id) => {
      const r = await control('GET', `/interaction?id=${id}`);
      return r.status === 200 ? r.body : null;
    },
    /** The bot's DMs to a user, oldest first. */
    dms: (userId) => must('GET', `/messages?user_id=${userId}`),
    /** What the simulator holds about a user. */
    truth: (userId) => must('GET', `/truth?user_id=${userId}`),
    /** Op 7 RECONNECT to every session. */
    reconnect: () => must('POST', '/reconnect'),
    stats: () => must('GET', '/stats'),
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((res) => child.once('exit', res));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
