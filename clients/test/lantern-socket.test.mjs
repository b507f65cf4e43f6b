// Lantern's socket driven the way Lantern's published front-end instructions
// do it (lib/lantern-client.mjs: INIT on HELLO, heartbeat on op 4 at
// heartbeat_interval, reconnect with backoff), against a real Halyard.
import { directFetch, route } from '../lib/browser.mjs';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocketImpl from 'ws';
import { markedPresence, startHalyard, waitFor } from '../lib/halyard.mjs';
import { LanternSocket, OP } from '../lib/lantern-client.mjs';

const halyard = await startHalyard();
route(halyard.origin, ['lantern.rest']);
after(() => halyard.stop());

// The published URL is wss://lantern.rest/socket; lib/browser.mjs routes
// lantern.rest to Halyard (DNS plus a TLS proxy in a deployment).
const SOCKET = 'wss://lantern.rest/socket';
const LANTERN_SOCKET = 'wss://lantern.rest/lantern/socket';

/** Whether Halyard refuses the WebSocket upgrade on /lantern/socket with a 404. */
async function lanternSocketMissing() {
  return new Promise((resolve) => {
    const ws = new WebSocketImpl(`ws://${halyard.host}/lantern/socket`);
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode === 404);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(false);
      ws.close();
    });
    ws.on('error', () => resolve(false));
  });
}
const skip = (await lanternSocketMissing()) ? 'lantern socket not implemented' : false;

const users = await halyard.users();

/** The Spotify clock (`current_human_readable`) is computed per read; everything else must match. */
function stable(user) {
  const copy = structuredClone(user);
  if (copy.active_platforms?.spotify?.time) delete copy.active_platforms.spotify.time.current_human_readable;
  return copy;
}

async function lanternUsers(ids) {
  const out = [];
  for (const id of ids) out.push(stable(await halyard.lanternUser(id)));
  return out;
}

function open(url, init) {
  const client = new LanternSocket(url, init);
  return client;
}

describe('Lantern socket, as the README tells a page to use it', { skip }, () => {
  describe('live', { concurrency: 2 }, () => {
    test('heartbeats every heartbeat_interval get HEARTBEAT_ACK and keep the socket open', { timeout: 60_000 }, async () => {
      const id = users[19].id;
      const client = open(SOCKET, { user_id: id });
      try {
        await waitFor(() => client.received(OP.INIT_ACK).length === 1, { what: 'INIT_ACK' });
        const hello = client.messages[0];
        assert.deepEqual(hello, { t: 'HELLO', op: 1, d: { heartbeat_interval: 30000 } });
        await waitFor(() => client.received(OP.HEARTBEAT_ACK).length >= 1, {
          timeout: 40_000,
          what: 'HEARTBEAT_ACK after the first heartbeat',
        });
        assert.deepEqual(client.received(OP.HEARTBEAT_ACK)[0], { t: 'HEARTBEAT_ACK', op: 5 });
        assert.deepEqual(client.sent.map((m) => m.op), [OP.INIT, OP.HEARTBEAT]);
        assert.equal(client.ws.readyState, WebSocket.OPEN);
        assert.equal(client.connects, 1);
        assert.equal(client.received(OP.DISCONNECT).length, 0);
      } finally {
        client.close();
      }
    });

    describe('events', () => {
      test('user_id: INIT_ACK is the user object; presence and storage changes arrive', async () => {
        const id = users[0].id;
        await halyard.presence(markedPresence(id, 'lantern-before'));
        await waitFor(async () => (await halyard.lanternUser(id)).activities.some((a) => a.details === 'lantern-before'));
        const client = open(SOCKET, { user_id: id });
        try {
          await waitFor(() => client.received(OP.INIT_ACK).length === 1, { what: 'INIT_ACK' });
          const ack = client.received(OP.INIT_ACK)[0];
          assert.equal(ack.t, 'INIT_ACK');
          assert.ok(!Array.isArray(ack.d), 'INIT_ACK for user_id is one object');
          assert.deepEqual(stable(ack.d), stable(await halyard.lanternUser(id)));

          await halyard.presence(markedPresence(id, 'lantern-user-id', 'idle'));
          await waitFor(() => client.received(OP.PRESENCE_UPDATE).some((m) => m.d.activities.some((a) => a.details === 'lantern-user-id')), {
            what: 'PRESENCE_UPDATE',
          });
          const update = client.received(OP.PRESENCE_UPDATE).at(-1);
          assert.equal(update.t, 'PRESENCE_UPDATE');
          assert.equal(update.d.metadata.id, id);
          assert.equal(update.d.status, 'idle');
          assert.deepEqual(stable(update.d), stable(await halyard.lanternUser(id)));

          // Storage written through Lantern's REST route → STORAGE_UPDATE with the full user object.
          const token = await halyard.token(id);
          const put = await directFetch(`${halyard.origin}/api/v1/users/${id}/storage/colour`, {
            method: 'PUT',
            headers: { Authorization: token, 'Content-Type': 'application/json' },
            body: JSON.stringify({ value: 'teal' }),
          });
          assert.equal(put.status, 200);
          await waitFor(() => client.received(OP.STORAGE_UPDATE).some((m) => m.d.storage.colour === 'teal'), {
            what: 'STORAGE_UPDATE',
          });
          const stored = client.received(OP.STORAGE_UPDATE).at(-1);
          assert.deepEqual(stable(stored.d), stable(await halyard.lanternUser(id)));

          // Written through Lanyard's KV route: the same store, the same event.
          const kv = await directFetch(`${halyard.origin}/v1/users/${id}/kv/shape`, {
            method: 'PUT',
            headers: { Authorization: token },
            body: 'circle',
          });
          assert.equal(kv.status, 204);
          await waitFor(() => client.received(OP.STORAGE_UPDATE).some((m) => m.d.storage.shape === 'circle'), {
            what: 'STORAGE_UPDATE from a Lanyard KV write',
          });
          assert.deepEqual(client.received(OP.STORAGE_UPDATE).at(-1).d.storage, { colour: 'teal', shape: 'circle' });
          assert.equal(client.received(OP.DISCONNECT).length, 0);
          assert.equal(client.received(OP.ERROR).length, 0);
        } finally {
          client.close();
        }
      });

      test('user_ids on /lantern/socket: INIT_ACK is an array in request order; updates are single objects', async () => {
        const ids = [users[5].id, users[2].id, users[7].id];
        const client = open(LANTERN_SOCKET, { user_ids: ids });
        try {
          await waitFor(() => client.received(OP.INIT_ACK).length === 1, { what: 'INIT_ACK' });
          const ack = client.received(OP.INIT_ACK)[0];
          assert.ok(Array.isArray(ack.d));
          assert.deepEqual(ack.d.map(stable), await lanternUsers(ids));

          await halyard.presence(markedPresence(ids[1], 'lantern-user-ids', 'dnd'));
          await waitFor(() => client.received(OP.PRESENCE_UPDATE).some((m) => m.d.activities?.some((a) => a.details === 'lantern-user-ids')), {
            what: 'PRESENCE_UPDATE',
          });
          const update = client.received(OP.PRESENCE_UPDATE).at(-1);
          assert.ok(!Array.isArray(update.d));
          assert.equal(update.d.metadata.id, ids[1]);
          assert.deepEqual(stable(update.d), stable(await halyard.lanternUser(ids[1])));
          // Not subscribed: no update for someone else.
          await halyard.presence(markedPresence(users[8].id, 'lantern-not-mine'));
          await waitFor(async () => (await halyard.lanternUser(users[8].id)).activities.some((a) => a.details === 'lantern-not-mine'));
          await new Promise((r) => setTimeout(r, 200));
          assert.ok(client.received(OP.PRESENCE_UPDATE).every((m) => ids.includes(m.d.metadata.id)));
        } finally {
          client.close();
        }
      });

      test('"All" (the README’s spelling): INIT_ACK is every monitored user; any user’s update arrives', async () => {
        const client = open(SOCKET, { user_id: 'All' });
        try {
          await waitFor(() => client.received(OP.INIT_ACK).length === 1, { what: 'INIT_ACK' });
          const ack = client.received(OP.INIT_ACK)[0];
          assert.ok(Array.isArray(ack.d));
          assert.deepEqual(ack.d.map((u) => u.metadata.id).sort(), users.map((u) => u.id).sort());
          for (const user of ack.d) assert.deepEqual(stable(user), stable(await halyard.lanternUser(user.metadata.id)));

          const id = users[12].id;
          await halyard.presence(markedPresence(id, 'lantern-all'));
          await waitFor(() => client.users[id]?.activities?.some((a) => a.details === 'lantern-all'), { what: 'PRESENCE_UPDATE' });
          assert.deepEqual(stable(client.users[id]), stable(await halyard.lanternUser(id)));
        } finally {
          client.close();
        }
      });
    });
  });

  test('reconnects with backoff when the server goes away, INITs again and gets updates', { timeout: 90_000 }, async () => {
    const id = users[3].id;
    const client = open(SOCKET, { user_id: id });
    try {
      await waitFor(() => client.received(OP.INIT_ACK).length === 1, { what: 'INIT_ACK' });
      await halyard.restart({ downMs: 2000 });
      await waitFor(() => client.received(OP.INIT_ACK).length === 2, { timeout: 30_000, what: 'INIT_ACK after reconnecting' });
      // At least one attempt failed while the server was down, each wait twice the one before.
      assert.ok(client.connects >= 3, `connects: ${client.connects}`);
      assert.equal(client.retryDelays[0], 250);
      for (let i = 1; i < client.retryDelays.length; i++) {
        assert.equal(client.retryDelays[i], Math.min(client.retryDelays[i - 1] * 2, 8000));
      }
      assert.equal(client.received(OP.HELLO).length, 2);
      assert.deepEqual(stable(client.received(OP.INIT_ACK)[1].d), stable(await halyard.lanternUser(id)));

      await halyard.presence(markedPresence(id, 'lantern-after-restart'));
      await waitFor(() => client.users[id]?.activities?.some((a) => a.details === 'lantern-after-restart'), {
        what: 'PRESENCE_UPDATE after reconnecting',
      });
    } finally {
      client.close();
    }
  });
});
