import { describe, expect, it, vi } from 'vitest';
import { Call, CallError } from './call';
import type { CallOptions } from './call';
import { parseServerMessage } from './messages';
import type { SocketLike } from './signalling';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: { type: string; [k: string]: unknown }[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  send(data: string) { this.sent.push(JSON.parse(data)); }
  close() { this.readyState = 3; }
  open() { this.readyState = 1; this.onopen?.({}); }
  frame(m: unknown) { this.onmessage?.({ data: JSON.stringify(m) }); }
}

/** The parts of RTCPeerConnection `Call` touches before media flows, recording its configuration. */
class FakePc {
  configs: RTCConfiguration[] = [];
  constructor(config: RTCConfiguration) { this.configs.push(config); }
  createDataChannel() { return { close() {} }; }
  addTrack() { return {}; }
  async createOffer() { return { type: 'offer', sdp: 'v=0' }; }
  async setLocalDescription() {}
  setConfiguration(c: RTCConfiguration) { this.configs.push(c); }
  close() {}
}

const TURN = { urls: ['turn:198.18.0.1:3478?transport=tcp'], username: '1796611807:par_1', credential: 'VxqpkIVGntGjpnLfpmA1g4959fQ=' };
const ME = { participant_id: 'par_1', identity: 'p-1', role: 'patient', muted: false };
const mic = { getAudioTracks: () => [{ enabled: true }], getTracks: () => [] } as unknown as MediaStream;

class TestCall extends Call {
  static start(options: Omit<CallOptions, 'url' | 'token'>): { call: TestCall; joined: Promise<void> } {
    const call = new TestCall({ url: 'https://pay.example', token: 't.o.k', microphone: mic, joinTimeoutMs: 500, ...options });
    return { call, joined: call.connect() };
  }
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('iceServers from the gateway', () => {
  it('joined and token_refreshed parse with and without iceServers; malformed entries drop the frame', () => {
    const joined = { type: 'joined', v: 1, room: 'r', participant: ME, participants: [] };
    expect(parseServerMessage(JSON.stringify(joined))).not.toBeNull();
    expect(parseServerMessage(JSON.stringify({ ...joined, iceServers: [TURN] }))).toMatchObject({ iceServers: [TURN] });
    for (const bad of [[{ ...TURN, credential: 7 }], [{ ...TURN, urls: 'turn:h' }], [{ ...TURN, urls: [] }], {}]) {
      expect(parseServerMessage(JSON.stringify({ ...joined, iceServers: bad }))).toBeNull();
      expect(parseServerMessage(JSON.stringify({ type: 'token_refreshed', exp: 5, iceServers: bad }))).toBeNull();
    }
    expect(parseServerMessage(JSON.stringify({ type: 'token_refreshed', exp: 5, iceServers: [TURN] }))).toMatchObject({ iceServers: [TURN] });
  });

  it('the peer connection gets the app servers, then the gateway TURN servers, and the relay policy', async () => {
    const ws = new FakeSocket();
    let pc: FakePc | undefined;
    const app = { urls: 'stun:stun.example.org:3478' };
    const { joined } = TestCall.start({
      socket: () => ws, iceServers: [app], iceTransportPolicy: 'relay',
      peerConnection: (c) => { pc = new FakePc(c); return pc as unknown as RTCPeerConnection; },
    });
    joined.catch(() => {});
    ws.open();
    ws.frame({ type: 'joined', v: 1, room: 'r', participant: ME, participants: [], iceServers: [TURN] });
    await flush();
    expect(pc?.configs[0]).toEqual({ iceServers: [app, TURN], iceTransportPolicy: 'relay' });
    expect(ws.sent.map((m) => m.type)).toEqual(['join', 'offer']);

    const fresh = { ...TURN, username: '1796612407:par_1', credential: 'c2Vjb25k' };
    ws.frame({ type: 'token_refreshed', exp: 99, iceServers: [fresh] });
    expect(pc?.configs[1]).toEqual({ iceServers: [app, fresh], iceTransportPolicy: 'relay' });
  });

  it('without iceTransportPolicy the policy is "all" and no TURN is needed', async () => {
    const ws = new FakeSocket();
    let config: RTCConfiguration | undefined;
    const { joined } = TestCall.start({ socket: () => ws, peerConnection: (c) => { config = c; return new FakePc(c) as unknown as RTCPeerConnection; } });
    joined.catch(() => {});
    ws.open();
    ws.frame({ type: 'joined', v: 1, room: 'r', participant: ME, participants: [] });
    await flush();
    expect(config).toEqual({ iceServers: [], iceTransportPolicy: 'all' });
  });

  it('"relay" with no TURN server fails the join at once with no_relay', async () => {
    const ws = new FakeSocket();
    const factory = vi.fn((c: RTCConfiguration) => new FakePc(c) as unknown as RTCPeerConnection);
    const { joined } = TestCall.start({ socket: () => ws, iceTransportPolicy: 'relay', iceServers: [{ urls: 'stun:s:3478' }], peerConnection: factory });
    ws.open();
    ws.frame({ type: 'joined', v: 1, room: 'r', participant: ME, participants: [] });
    const err = await joined.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallError);
    expect(err).toMatchObject({ code: 'no_relay' });
    expect(factory).not.toHaveBeenCalled();
  });
});
