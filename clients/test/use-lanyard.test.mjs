// use-lanyard@1.7.0 (React hooks + `get`) and @prequist/lanyard@1.1.0 (the
// REST client it depends on), unmodified, against a real Halyard.
import { directFetch, route, requests } from '../lib/browser.mjs';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { get, useLanyard, useLanyardWS } from 'use-lanyard';
import * as prequist from '@prequist/lanyard';
import { markedPresence, startHalyard, waitFor } from '../lib/halyard.mjs';
import { renderHook } from '../lib/react.mjs';

const UNMONITORED = '100000000000000001';

let halyard;
let users;
let options; // use-lanyard's own option to point it at a host

before(async () => {
  halyard = await startHalyard();
  route(halyard.origin);
  users = await halyard.users();
  assert.equal(users.length, 21); // 20 demo members and the bot's own member
  options = { api: { hostname: halyard.host, secure: false } };
});

after(async () => {
  await halyard?.stop();
});

describe('use-lanyard get (REST)', () => {
  test('returns the presence Halyard holds', async () => {
    for (const { id } of users.slice(0, 5)) {
      const res = await get(id, options);
      assert.equal(res.success, true, JSON.stringify(res));
      assert.deepEqual(res.data, await halyard.lanyardUser(id));
      assert.equal(res.data.discord_user.id, id);
    }
    assert.ok(requests.some((r) => r.url === `${halyard.origin}/v1/users/${users[0].id}`));
  });

  test('an unmonitored user is a LanyardError with the 404 body', async () => {
    const res = await get(UNMONITORED, options);
    assert.equal(res.success, false);
    assert.equal(res.error.code, 404);
    assert.equal(res.error.message, 'User is not being monitored by Lanyard');
    assert.deepEqual(res.error.body, {
      success: false,
      error: { code: 'user_not_monitored', message: 'User is not being monitored by Lanyard' },
    });
  });
});

describe('@prequist/lanyard get (REST, host api.lanyard.rest routed to Halyard)', () => {
  test('returns the presence Halyard holds', async () => {
    const id = users[1].id;
    const data = await prequist.get(id);
    assert.deepEqual(data, await halyard.lanyardUser(id));
    assert.ok(requests.some((r) => r.original === `https://api.lanyard.rest/v1/users/${id}`));
  });

  test('an unmonitored user throws LanyardHTTPError with the 404 body', async () => {
    await assert.rejects(prequist.get(UNMONITORED), (err) => {
      assert.ok(err instanceof prequist.LanyardHTTPError);
      assert.equal(err.response.status, 404);
      assert.equal(err.body.error.code, 'user_not_monitored');
      assert.equal(err.message, 'User is not being monitored by Lanyard');
      return true;
    });
  });
});

describe('use-lanyard useLanyard (REST hook)', () => {
  test('loads the presence Halyard holds', async () => {
    const id = users[2].id;
    const hook = renderHook(() => useLanyard(id, options));
    try {
      await waitFor(() => hook.current.state === 'loaded', { what: 'useLanyard loaded' });
      assert.deepEqual(hook.current.data, await halyard.lanyardUser(id));
      assert.equal(hook.current.error, undefined);
    } finally {
      hook.unmount();
    }
  });

  test('an unmonitored user ends in state errored', async () => {
    const hook = renderHook(() => useLanyard(UNMONITORED, options));
    try {
      await waitFor(() => hook.current.state === 'errored', { what: 'useLanyard errored' });
      assert.equal(hook.current.error.code, 404);
      assert.equal(hook.current.error.body.error.code, 'user_not_monitored');
    } finally {
      hook.unmount();
    }
  });
});

describe('use-lanyard useLanyardWS (socket hook)', () => {
  test('INIT_STATE equals REST, then a gateway presence change and a KV write arrive', async () => {
    const id = users[3].id;
    const hook = renderHook(() => useLanyardWS(id, options));
    try {
      const initial = await halyard.lanyardUser(id);
      await waitFor(() => hook.current !== undefined, { what: 'INIT_STATE through useLanyardWS' });
      assert.deepEqual(hook.current, initial);
      assert.ok(requests.some((r) => r.kind === 'ws' && r.url === `ws://${halyard.host}/socket`));

      // A presence change travels simulator → gateway → bot → hub → socket.
      await halyard.presence(markedPresence(id, 'use-lanyard-ws'));
      await waitFor(() => hook.current?.activities?.[0]?.details === 'use-lanyard-ws', {
        what: 'PRESENCE_UPDATE through useLanyardWS',
      });
      assert.deepEqual(hook.current, await halyard.lanyardUser(id));
      assert.equal(hook.current.discord_status, 'online');
      assert.equal(hook.current.active_on_discord_web, true);
      assert.equal(hook.current.active_on_discord_mobile, false);

      // A KV write is a PRESENCE_UPDATE with the new kv.
      const token = await halyard.token(id);
      const put = await directFetch(`${halyard.origin}/v1/users/${id}/kv/city`, {
        method: 'PUT',
        headers: { Authorization: token },
        body: 'Reykjavík',
      });
      assert.equal(put.status, 204);
      await waitFor(() => hook.current?.kv?.city === 'Reykjavík', { what: 'KV update through useLanyardWS' });
      assert.deepEqual(hook.current, await halyard.lanyardUser(id));
    } finally {
      hook.unmount();
    }
  });

  // use-lanyard reconnects at once after a restart; its op 2 can land
  // before Halyard's first member sync, which the server holds until the
  // sync so the page keeps updating.
  test('reconnects when the server restarts and keeps receiving updates', {
  }, async () => {
    const id = users[6].id;
    const hook = renderHook(() => useLanyardWS(id, options));
    try {
      await waitFor(() => hook.current !== undefined, { what: 'INIT_STATE' });
      const before = requests.filter((r) => r.kind === 'ws').length;
      await halyard.restart();
      await waitFor(() => requests.filter((r) => r.kind === 'ws').length > before, { what: 'a reconnect' });
      await halyard.presence(markedPresence(id, 'use-lanyard-after-restart'));
      await waitFor(() => hook.current?.activities?.[0]?.details === 'use-lanyard-after-restart', {
        timeout: 20_000,
        what: 'PRESENCE_UPDATE after reconnecting',
      });
      assert.deepEqual(hook.current, await halyard.lanyardUser(id));
    } finally {
      hook.unmount();
    }
  });
});
