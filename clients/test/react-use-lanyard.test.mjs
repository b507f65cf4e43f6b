// react-use-lanyard@0.3.6, unmodified, against a real Halyard: the REST hook
// (SWR, one id and several), the socket hook (one id and several) and the KV
// functions `set` / `del`. The library always builds https:// and wss:// URLs
// from `apiUrl`; lib/browser.mjs stands in for the TLS proxy in front of
// Halyard (see there).
import { route, requests } from '../lib/browser.mjs';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { del, set, useLanyard } from 'react-use-lanyard';
import { markedPresence, startHalyard, waitFor } from '../lib/halyard.mjs';
import { renderHook } from '../lib/react.mjs';

let halyard;
let users;
let apiUrl; // react-use-lanyard's option: the host, e.g. 127.0.0.1:4001

before(async () => {
  halyard = await startHalyard();
  route(halyard.origin);
  users = await halyard.users();
  apiUrl = halyard.host;
});

after(async () => {
  await halyard?.stop();
});

describe('react-use-lanyard REST hook', () => {
  test('one id: the body is Halyard’s {success, data}', async () => {
    const id = users[0].id;
    const hook = renderHook(() => useLanyard({ userId: id, apiUrl }));
    try {
      await waitFor(() => hook.current.data, { what: 'SWR data' });
      assert.equal(hook.current.error, undefined);
      assert.deepEqual(hook.current.data, { success: true, data: await halyard.lanyardUser(id) });
      assert.ok(requests.some((r) => r.original === `https://${apiUrl}/v1/users/${id}`));
    } finally {
      hook.unmount();
    }
  });

  test('several ids: one body per id, in order', async () => {
    const ids = users.slice(1, 4).map((u) => u.id);
    const hook = renderHook(() => useLanyard({ userId: ids, apiUrl }));
    try {
      await waitFor(() => hook.current.data, { what: 'SWR data' });
      const want = [];
      for (const id of ids) want.push({ success: true, data: await halyard.lanyardUser(id) });
      assert.deepEqual(hook.current.data, want);
    } finally {
      hook.unmount();
    }
  });

  test('an unmonitored id surfaces Lanyard’s message as the SWR error', async () => {
    const hook = renderHook(() => useLanyard({ userId: '100000000000000001', apiUrl }));
    try {
      await waitFor(() => hook.current.error, { what: 'SWR error' });
      assert.equal(hook.current.error.message, 'User is not being monitored by Lanyard');
    } finally {
      hook.unmount();
    }
  });
});

describe('react-use-lanyard socket hook', () => {
  test('one id: INIT_STATE equals REST, a gateway presence change arrives', async () => {
    const id = users[4].id;
    const hook = renderHook(() => useLanyard({ userId: id, socket: true, apiUrl }));
    try {
      await waitFor(() => hook.current.status && !hook.current.loading, { what: 'INIT_STATE' });
      assert.deepEqual(hook.current.status, await halyard.lanyardUser(id));
      assert.ok(requests.some((r) => r.kind === 'ws' && r.original === `wss://${apiUrl}/socket`));

      await halyard.presence(markedPresence(id, 'react-use-lanyard-one', 'dnd'));
      await waitFor(() => hook.current.status?.activities?.[0]?.details === 'react-use-lanyard-one', {
        what: 'PRESENCE_UPDATE',
      });
      assert.equal(hook.current.status.discord_status, 'dnd');
      assert.deepEqual(hook.current.status, await halyard.lanyardUser(id));
    } finally {
      hook.unmount();
    }
  });

  test('several ids: INIT_STATE is the map of presences, then updates arrive', async () => {
    const ids = users.slice(5, 8).map((u) => u.id);
    const hook = renderHook(() => useLanyard({ userId: ids, socket: true, apiUrl }));
    try {
      await waitFor(() => hook.current.status && !hook.current.loading, { what: 'INIT_STATE' });
      const want = {};
      for (const id of ids) want[id] = await halyard.lanyardUser(id);
      assert.deepEqual(hook.current.status, want);

      // The library replaces its state with each PRESENCE_UPDATE's `d`.
      await halyard.presence(markedPresence(ids[1], 'react-use-lanyard-many'));
      await waitFor(() => hook.current.status?.activities?.[0]?.details === 'react-use-lanyard-many', {
        what: 'PRESENCE_UPDATE',
      });
      assert.equal(hook.current.status.discord_user.id, ids[1]);
      // Halyard adds user_id to `d` on multi-id sockets (spec/lanyard.md §14); the rest is the presence.
      const { user_id: userId, ...presence } = hook.current.status;
      assert.equal(userId, ids[1]);
      assert.deepEqual(presence, await halyard.lanyardUser(ids[1]));
    } finally {
      hook.unmount();
    }
  });
});

describe('react-use-lanyard KV set / del', () => {
  test('set and del are visible through REST', async () => {
    const id = users[9].id;
    const apiKey = await halyard.token(id);

    const res = await set({ apiKey, userId: id, key: 'location', value: 'Los Angeles, CA', apiUrl });
    assert.equal(res.status, 204);
    assert.equal(await res.text(), '');
    assert.equal((await halyard.lanyardUser(id)).kv.location, 'Los Angeles, CA');

    const res2 = await set({ apiKey, userId: id, key: 'mood', value: '{"json":"as a string"}', apiUrl });
    assert.equal(res2.status, 204);
    assert.deepEqual((await halyard.lanyardUser(id)).kv, { location: 'Los Angeles, CA', mood: '{"json":"as a string"}' });

    const gone = await del({ apiKey, userId: id, key: 'location', apiUrl });
    assert.equal(gone.status, 204);
    assert.deepEqual((await halyard.lanyardUser(id)).kv, { mood: '{"json":"as a string"}' });

    assert.ok(requests.some((r) => r.method === 'PUT' && r.original === `https://${apiUrl}/v1/users/${id}/kv/location`));
    assert.ok(requests.some((r) => r.method === 'DELETE' && r.original === `https://${apiUrl}/v1/users/${id}/kv/location`));
  });

  test('set and del reach the socket hook as PRESENCE_UPDATEs with the new kv', async () => {
    const id = users[13].id;
    const apiKey = await halyard.token(id);
    const hook = renderHook(() => useLanyard({ userId: id, socket: true, apiUrl }));
    try {
      await waitFor(() => hook.current.status && !hook.current.loading, { what: 'INIT_STATE' });
      assert.equal((await set({ apiKey, userId: id, key: 'song', value: 'Let Go', apiUrl })).status, 204);
      await waitFor(() => hook.current.status?.kv?.song === 'Let Go', { what: 'KV set on the socket' });
      assert.equal((await del({ apiKey, userId: id, key: 'song', apiUrl })).status, 204);
      await waitFor(() => hook.current.status?.kv && !('song' in hook.current.status.kv), { what: 'KV del on the socket' });
      assert.deepEqual(hook.current.status, await halyard.lanyardUser(id));
    } finally {
      hook.unmount();
    }
  });

  test('@me works as the user id', async () => {
    const id = users[10].id;
    const apiKey = await halyard.token(id);
    assert.equal((await set({ apiKey, userId: '@me', key: 'k', value: 'v', apiUrl })).status, 204);
    assert.equal((await halyard.lanyardUser(id)).kv.k, 'v');
    assert.equal((await del({ apiKey, userId: '@me', key: 'k', apiUrl })).status, 204);
    assert.deepEqual((await halyard.lanyardUser(id)).kv, {});
  });

  test('a wrong key is refused with Lanyard’s 401 and nothing is written', async () => {
    const id = users[11].id;
    const other = await halyard.token(users[12].id);
    const res = await set({ apiKey: other, userId: id, key: 'k', value: 'v', apiUrl });
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), {
      success: false,
      error: { code: 'no_permission', message: 'You do not have permission to access this resource' },
    });
    assert.deepEqual((await halyard.lanyardUser(id)).kv, {});
  });
});
