// Issue 14's budget: a send that mentions someone and replies in a thread costs at most 10% more
// than a plain send. Both into the same group (a sender and one member), at SEND_CONNECTIONS
// connections, alternated over `rounds` so load drifts hit both alike; the server's CPU per send
// (steadier than requests/s on a shared machine) and requests/s of each, and their ratio: pooled
// over all rounds, and the median of each round's ratio to that round's plain sends (a load
// spike in one round moves the median less on a shared machine).
import { account, api, cpuSeconds, load, round, type Proc } from './lib.js';
import { SEND_CONNECTIONS } from './scenarios.js';

const TEXT = 'Hey, are we still on for lunch tomorrow at noon?';

export async function sendFeatures(server: Proc, seconds: number, rounds = 6) {
  const sender = await account(server.base, 'feat');
  const member = await account(server.base, 'ment');
  const room = await api(server.base, 'POST', '/api/chat_rooms/', sender.token, { room_type: 'group', name: 'features', is_public: false, members: [member.id] });
  const root = await api(server.base, 'POST', '/api/messages/', sender.token, { chat_room: room.id, content: 'the thread' });
  const bodies = {
    plain: () => ({ chat_room: room.id, content: TEXT }),
    mention: () => ({ chat_room: room.id, content: `@${member.email.split("@")[0]} ${TEXT}`, mentions: [member.id] }),
    thread: () => ({ chat_room: room.id, content: TEXT, thread: root.id }),
    mentionAndThread: () => ({ chat_room: room.id, content: `@${member.email.split("@")[0]} ${TEXT}`, mentions: [member.id], thread: root.id }),
  };
  const kinds = Object.keys(bodies) as Array<keyof typeof bodies>;
  const totals = Object.fromEntries(kinds.map((k) => [k, { requests: 0, cpu: 0, rps: [] as number[], perRound: [] as number[] }])) as Record<keyof typeof bodies, { requests: number; cpu: number; rps: number[]; perRound: number[] }>;
  for (let i = 0; i < rounds; i++) {
    for (const kind of kinds) {
      const cpuBefore = cpuSeconds(server.pid);
      const r = await load({
        url: `${server.base}/api/messages/`,
        connections: SEND_CONNECTIONS,
        duration: Math.max(1, Math.round(seconds / 2)),
        requests: [{ method: 'POST', headers: { authorization: `Bearer ${sender.token}`, 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: JSON.stringify(bodies[kind]()) }) }],
      });
      if ((r.statuses['201'] ?? 0) !== r.requests) throw new Error(`${kind}: not every send was stored: ${JSON.stringify(r.statuses)}`);
      const cpu = cpuSeconds(server.pid) - cpuBefore;
      totals[kind].requests += r.requests;
      totals[kind].cpu += cpu;
      totals[kind].perRound.push(cpu / r.requests);
      totals[kind].rps.push(round(r.rps));
    }
  }
  const cpuUs = (k: keyof typeof totals) => round((totals[k].cpu * 1e6) / totals[k].requests);
  const medianRatio = (k: keyof typeof totals) => {
    const ratios = totals[k].perRound.map((cpu, i) => cpu / totals.plain.perRound[i]).sort((a, b) => a - b);
    const mid = ratios.length / 2;
    return round(ratios.length % 2 ? ratios[Math.floor(mid)] : (ratios[mid - 1] + ratios[mid]) / 2, 2);
  };
  return {
    ...Object.fromEntries(kinds.map((k) => [k, { cpuUsPerSend: cpuUs(k), rps: totals[k].rps, cpuRatio: round(cpuUs(k) / cpuUs('plain'), 2), medianRoundRatio: medianRatio(k) }])),
    budget: 'mentionAndThread ≤ 1.1 (cpuRatio and medianRoundRatio)',
  };
}
