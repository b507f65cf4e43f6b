// sk-lanyard@0.2.7 (Svelte stores), unmodified, against a real Halyard: REST
// and the socket in its three modes (id, ids, all). Its URLs are options, so
// they point straight at Halyard. The stores are subscribed to directly, as
// a Svelte component would.
import { directFetch, route, requests } from '../lib/browser.mjs';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useLanyard } from 'sk-lanyard';
import { markedPresence, startHalyard, waitFor } from '../lib/halyard.mjs';

let halyard;
let users;
let restUrl;
let wsUrl;

before(async () => {
  halyard = await startHalyard();
  route(halyard.origin);
  users = await halyard.users();
  restUrl = `${halyard.origin}/v1`;
  wsUrl = `ws://${halyard.host}/socket`;
});

after(async () => {
  await halyard?.stop();
});

/** Subscribes to a store; `values` records every value it publishes. */
function watch(store) {
  const values = [];
  const unsubscribe = store.subscribe((v) => values.push(v === undefined ? v : structuredClone(v)));
  return {
    values,
    get current() {
      return values[values.length - 1];
    },
    unsubscribe,
  };
}

describe('sk-lanyard REST', () => {
  test('id: the store holds the presence Halyard holds', async () => {
    const id = users[0].id;
    const w = watch(useLanyard({ method: 'rest', id, restUrl, pollInterval: 60_000 }));
    try {
      await waitFor(() => w.current, { what: 'REST value' });
      assert.deepEqual(w.current, await halyard.lanyardUser(id));
      assert.ok(requests.some((r) => r.url === `${restUrl}/users/${id}`));
    } finally {
      w.unsubscribe();
    }
  });
});

describe('sk-lanyard socket', () => {
  test('id: INIT_STATE is the bare presence; a gateway presence change arrives', async () => {
    const id = users[1].id;
    const w = watch(useLanyard({ method: 'ws', id, wsUrl }));
    try {
      await waitFor(() => w.current, { what: 'INIT_STATE' });
      assert.deepEqual(w.current, await halyard.lanyardUser(id));

      await halyard.presence(markedPresence(id, 'sk-lanyard-id', 'idle'));
      await waitFor(() => w.current?.activities?.[0]?.details === 'sk-lanyard-id', { what: 'PRESENCE_UPDATE' });
      assert.deepEqual(w.current, await halyard.lanyardUser(id));
      assert.equal(w.current.discord_status, 'idle');
    } finally {
      w.unsubscribe();
    }
  });

  test('ids: the map of presences, updated per user by PRESENCE_UPDATE user_id', async () => {
    const ids = users.slice(2, 5).map((u) => u.id);
    const w = watch(useLanyard({ method: 'ws', ids, wsUrl }));
    try {
      await waitFor(() => w.current, { what: 'INIT_STATE' });
      const want = {};
      for (const id of ids) want[id] = await halyard.lanyardUser(id);
      assert.deepEqual(w.current, want);

      // sk-lanyard merges an update into its map by `d.user_id`, which
      // Halyard sends on subscribe_to_ids sockets (spec/lanyard.md §14).
      await halyard.presence(markedPresence(ids[2], 'sk-lanyard-ids'));
      await waitFor(() => w.current?.[ids[2]]?.activities?.[0]?.details === 'sk-lanyard-ids', {
        what: 'PRESENCE_UPDATE merged into the map',
      });
      want[ids[2]] = await halyard.lanyardUser(ids[2]);
      assert.deepEqual(w.current, want);

      const token = await halyard.token(ids[0]);
      const put = await directFetch(`${halyard.origin}/v1/users/${ids[0]}/kv/greeting`, {
        method: 'PUT',
        headers: { Authorization: token },
        body: 'hello',
      });
      assert.equal(put.status, 204);
      await waitFor(() => w.current?.[ids[0]]?.kv?.greeting === 'hello', { what: 'KV update merged into the map' });
      want[ids[0]] = await halyard.lanyardUser(ids[0]);
      assert.deepEqual(w.current, want);
    } finally {
      w.unsubscribe();
    }
  });

  test('all: the map of every monitored user, updated per user', async () => {
    const w = watch(useLanyard({ method: 'ws', all: true, wsUrl }));
    try {
      await waitFor(() => w.current, { what: 'INIT_STATE' });
      const all = await halyard.users();
      assert.deepEqual(Object.keys(w.current).sort(), all.map((u) => u.id).sort());
      for (const { id } of all) assert.deepEqual(w.current[id], await halyard.lanyardUser(id), id);

      const id = all[all.length - 1].id;
      await halyard.presence(markedPresence(id, 'sk-lanyard-all', 'dnd'));
      await waitFor(() => w.current?.[id]?.activities?.[0]?.details === 'sk-lanyard-all', {
        what: 'PRESENCE_UPDATE merged into the map',
      });
      assert.deepEqual(w.current[id], await halyard.lanyardUser(id));
      assert.equal(Object.keys(w.current).length, all.length);
    } finally {
      w.unsubscribe();
    }
  });
});
