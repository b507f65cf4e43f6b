// svelte-lanyard@1.0.2 (a Svelte store), unmodified, against a real Halyard.
// It hard-codes https://api.lanyard.rest and wss://api.lanyard.rest/socket;
// lib/browser.mjs routes that host to Halyard as DNS plus a TLS proxy would.
import { route, requests } from '../lib/browser.mjs';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useLanyard } from 'svelte-lanyard';
import { markedPresence, startHalyard, waitFor } from '../lib/halyard.mjs';

let halyard;
let users;

before(async () => {
  halyard = await startHalyard();
  route(halyard.origin);
  users = await halyard.users();
});

after(async () => {
  await halyard?.stop();
});

function watch(store) {
  const values = [];
  const unsubscribe = store.subscribe((v) => values.push(v));
  return {
    get current() {
      return values[values.length - 1];
    },
    unsubscribe,
  };
}

describe('svelte-lanyard', () => {
  test('rest: the store holds the presence Halyard holds', async () => {
    const id = users[0].id;
    const w = watch(useLanyard(id, { type: 'rest', restInterval: 60_000 }));
    try {
      await waitFor(() => w.current, { what: 'REST value' });
      assert.deepEqual(w.current, await halyard.lanyardUser(id));
      assert.ok(requests.some((r) => r.original === `https://api.lanyard.rest/v1/users/${id}`));
    } finally {
      w.unsubscribe();
    }
  });

  test('socket: INIT_STATE equals REST; a gateway presence change and a KV write arrive', async () => {
    const id = users[1].id;
    const w = watch(useLanyard(id));
    try {
      await waitFor(() => w.current, { what: 'INIT_STATE' });
      assert.deepEqual(w.current, await halyard.lanyardUser(id));
      assert.ok(requests.some((r) => r.kind === 'ws' && r.original === 'wss://api.lanyard.rest/socket'));

      await halyard.presence(markedPresence(id, 'svelte-lanyard'));
      await waitFor(() => w.current?.activities?.[0]?.details === 'svelte-lanyard', { what: 'PRESENCE_UPDATE' });
      assert.deepEqual(w.current, await halyard.lanyardUser(id));

      const token = await halyard.token(id);
      const res = await fetch(`https://api.lanyard.rest/v1/users/${id}/kv`, {
        method: 'PATCH',
        headers: { Authorization: token, 'Content-Type': 'application/json' },
        body: JSON.stringify({ a: '1', b: '2' }),
      });
      assert.equal(res.status, 204);
      await waitFor(() => w.current?.kv?.b === '2', { what: 'KV PATCH on the socket' });
      assert.deepEqual(w.current.kv, { a: '1', b: '2' });
      assert.deepEqual(w.current, await halyard.lanyardUser(id));
    } finally {
      w.unsubscribe();
    }
  });
});
