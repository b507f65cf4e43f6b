// An unmodified discord.js 14 client against the Discord simulator: every
// Halyard test stands on the simulator, so a client that is not Halyard's
// (arikawa) bot checks that it behaves as Discord does.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChannelType, Client, Events, GatewayIntentBits, MessageFlags, Partials } from 'discord.js';
import { startSim } from '../lib/discordsim.mjs';

const MEMBERS = 20;

let sim;
let client;
let guildId;

/** Resolves with the first `event` for which `pred` holds, within `ms`. */
function nextEvent(emitter, event, pred = () => true, ms = 10_000) {
  return new Promise((res, rej) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      rej(new Error(`no ${event} within ${ms} ms`));
    }, ms);
    const on = (...args) => {
      if (!pred(...args)) return;
      clearTimeout(timer);
      emitter.off(event, on);
      res(args);
    };
    emitter.on(event, on);
  });
}

async function waitFor(cond, what, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

before(async () => {
  sim = await startSim({ members: MEMBERS });
  guildId = sim.guilds[0];
  client = new Client({
    intents: [
      GatewayIntentBits.Guilds,
      GatewayIntentBits.GuildMembers,
      GatewayIntentBits.GuildPresences,
      GatewayIntentBits.GuildMessages,
      GatewayIntentBits.DirectMessages,
      GatewayIntentBits.MessageContent,
    ],
    partials: [Partials.Channel], // DM channels arrive uncached, as on Discord
    rest: { api: sim.rest },
  });
  const ready = nextEvent(client, Events.ClientReady);
  await client.login(sim.token);
  await ready;
  await waitFor(() => client.guilds.cache.has(guildId), 'GUILD_CREATE');
});

after(async () => {
  await client?.destroy();
  await sim?.stop();
});

describe('discord.js against the simulator', () => {
  test('READY and GUILD_CREATE', async () => {
    assert.equal(client.user.id, sim.bot_id);
    assert.equal(client.user.bot, true);
    assert.equal(client.application.id, sim.application_id);
    const guild = client.guilds.cache.get(guildId);
    assert.equal(guild.memberCount, MEMBERS + 1); // the bot is a member
    assert.ok(guild.members.cache.has(sim.bot_id), 'GUILD_CREATE carries the bot member');
    assert.ok(guild.channels.cache.size >= 1);
    assert.ok(guild.roles.cache.has(guildId), '@everyone has the guild id');
  });

  test('all members with presences (op 8), the bot included', async () => {
    const guild = client.guilds.cache.get(guildId);
    const members = await guild.members.fetch({ withPresences: true, time: 10_000 });
    assert.equal(members.size, guild.memberCount);
    assert.ok(members.has(sim.bot_id));
    for (const id of sim.members[guildId]) assert.ok(members.has(id), `member ${id}`);
    let online = 0;
    for (const id of sim.members[guildId]) {
      const truth = await sim.truth(id);
      const presence = guild.presences.cache.get(id);
      if (truth.Status === 'offline') {
        assert.ok(!presence || presence.status === 'offline', `${id} should be offline`);
        continue;
      }
      online++;
      assert.equal(presence?.status, truth.Status, `${id} status`);
      assert.deepEqual({ ...presence.clientStatus }, truth.ClientStatus, `${id} client_status`);
    }
    assert.ok(online > 0, 'some members online');
    // Joined times are real dates in the past.
    for (const [, m] of members) assert.ok(m.joinedTimestamp > 1.4e12 && m.joinedTimestamp < Date.now(), `${m.id} joined_at`);
  });

  test('REST routes a bot commonly calls', async () => {
    const guild = client.guilds.cache.get(guildId);
    const channels = await guild.channels.fetch();
    assert.ok(channels.size >= 1);
    const roles = await guild.roles.fetch();
    assert.ok(roles.has(guildId));
    const guilds = await client.guilds.fetch();
    assert.ok(guilds.has(guildId));
    const found = await guild.members.search({ query: 'halyard', limit: 5 });
    assert.ok(found.has(sim.bot_id), 'member search finds the bot');
    const text = guild.channels.cache.find((c) => c.type === ChannelType.GuildText);
    const sent = await text.send('history check');
    assert.equal(sent.author.id, sim.bot_id);
    const history = await text.messages.fetch({ limit: 5 });
    assert.equal(history.first().id, sent.id, 'newest first');
    assert.equal(history.first().content, 'history check');
  });

  test('presence updates', async () => {
    const id = sim.members[guildId][3];
    const got = nextEvent(client, Events.PresenceUpdate, (_, p) => p.userId === id && p.status === 'dnd');
    await sim.presence({
      user: { id },
      status: 'dnd',
      client_status: { mobile: 'dnd' },
      activities: [{ name: 'Custom Status', type: 4, state: 'from discord.js', id: 'custom', created_at: Date.now() }],
    });
    const [, presence] = await got;
    assert.deepEqual({ ...presence.clientStatus }, { mobile: 'dnd' });
    assert.equal(presence.activities[0].state, 'from discord.js');
  });

  test('a DM and the reply', async () => {
    const id = sim.members[guildId][4];
    const got = nextEvent(client, Events.MessageCreate, (m) => m.author.id === id);
    const channelId = await sim.dm(id, 'hello bot');
    const [message] = await got;
    assert.equal(message.content, 'hello bot');
    assert.equal(message.channel.type, ChannelType.DM);
    assert.equal(message.channelId, channelId);
    assert.equal(message.guildId, null);
    await message.channel.send('hello human');
    const dms = await sim.dms(id);
    assert.deepEqual(dms.map((m) => m.content), ['hello human']);
  });

  test('a global slash command in a guild', async () => {
    await client.application.commands.set([{ name: 'ping', description: 'Replies pong' }]);
    const user = sim.members[guildId][5];
    const got = nextEvent(client, Events.InteractionCreate, (i) => i.isChatInputCommand() && i.commandName === 'ping');
    const id = await sim.interact(guildId, user, 'ping');
    const [interaction] = await got;
    assert.equal(interaction.id, id);
    assert.equal(interaction.user.id, user);
    assert.equal(interaction.guildId, guildId);
    assert.equal(interaction.commandGuildId, null, 'a global command has no data.guild_id');
    await interaction.reply({ content: 'pong', flags: MessageFlags.Ephemeral });
    const answer = await waitFor(() => sim.interaction(id), 'the callback');
    assert.equal(answer.type, 4);
    assert.equal(answer.data.content, 'pong');
    assert.equal(answer.data.flags & 64, 64);
  });

  test('resume after op 7 RECONNECT', async () => {
    const before = await sim.stats();
    const resumed = nextEvent(client, Events.ShardResume, () => true, 20_000);
    await sim.reconnect();
    await resumed;
    const stats = await sim.stats();
    assert.equal(stats.Resumes, before.Resumes + 1);
    assert.equal(stats.Identifies, before.Identifies, 'resumed, not identified again');
    // Still receiving events on the resumed session.
    const id = sim.members[guildId][6];
    const got = nextEvent(client, Events.PresenceUpdate, (_, p) => p.userId === id && p.status === 'idle');
    await sim.presence({ user: { id }, status: 'idle', client_status: { web: 'idle' }, activities: [] });
    await got;
  });
});
