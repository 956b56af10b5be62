/**
 * `Call`: join a Hushpay room with a participant access token — voice over WebRTC, mute,
 * chat, and (for patients) the payment prompts the agent sends.
 *
 * ```ts
 * const call = await Call.join({ url: 'https://pay.example', token });
 * call.on('chat', (m) => show(m.from.identity, m.text));
 * call.on('paymentRequested', ({ payment, clientSecret }) => mountCardForm(payment, clientSecret));
 * call.on('paymentLink', (link) => showLink(link.url));
 * call.on('paymentEnded', (end) => closePrompt(end.state, end.last4));
 * call.sendChat('hello');
 * call.setMuted(true);
 * call.sendDigits('4242');     // keypad payments: RFC 4733 tones, masked by the server
 * call.leave();
 * ```
 *
 * The call lasts as long as its token: before `exp` the server warns (`tokenExpiring`) and the
 * app gives a fresh token (same room, identity, role and grants) with `refreshToken(token)` —
 * or passes `refreshToken: () => fetchFreshToken()` in the options and the call does it
 * itself. Otherwise the server ends the call at `exp` (`closed` with code 4401).
 *
 * Card numbers typed into chat are removed by the server before anyone sees them
 * (`redacted: true`, and `chatRetract` for parts of a number sent earlier).
 */
import { Emitter } from '../card/emitter';
import { parseChatEvent } from './messages';
import type { ChatEvent, ChatSender, IceServer, ParticipantInfo, Payment, PaymentEnd, PatientPayment, RecordingState, ServerMessage } from './messages';
import { Signalling } from './signalling';
import type { SignallingState, SocketLike } from './signalling';

export interface CallOptions {
  /** The gateway's public URL (`https://pay.example`); `/v1/rtc` is derived from it. */
  url: string;
  /** A participant JWT from `POST /v1/access-tokens` (made by your backend). */
  token: string;
  /** The microphone to publish (default: `getUserMedia` with echo cancellation). */
  microphone?: MediaStream;
  /** Where to play the other side (default: a hidden `<audio>` element). */
  audioElement?: HTMLAudioElement;
  /**
   * Extra STUN/TURN servers for the peer connection. The gateway's own TURN servers, with
   * credentials minted for this participant, come in `joined` and are always used too.
   */
  iceServers?: RTCIceServer[];
  /**
   * `'relay'` sends media only through TURN (the gateway's `[turn]` servers): for networks
   * that block UDP, or to hide the patient's addresses from the media server. Default `'all'`.
   */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** Give up joining after this long (default 15 s). */
  joinTimeoutMs?: number;
  /**
   * Called on `tokenExpiring`: return a fresh token from your backend (same room, identity,
   * role and grants) and the call refreshes itself. Without it, call `refreshToken` yourself.
   */
  refreshToken?: () => Promise<string>;
  /** For tests: the WebSocket and peer connection factories. */
  socket?: (url: string) => SocketLike;
  peerConnection?: (config: RTCConfiguration) => RTCPeerConnection;
}

export interface ChatMessage {
  id: string;
  ts: number;
  from: ChatSender;
  text: string;
  redacted: boolean;
}

export interface PaymentLink {
  id: string;
  ts: number;
  from: ChatSender;
  payment: PatientPayment;
  /** The hosted payment page (with its secret in the fragment, on the patient's copy). */
  url: string;
}

export interface CallEvents extends Record<string, unknown> {
  state: SignallingState | 'connected';
  participantJoined: ParticipantInfo;
  participantLeft: { participant_id: string };
  mute: { participant_id: string; muted: boolean };
  chat: ChatMessage;
  chatRetract: { id: string; text: string };
  /** The agent asks this patient to pay (card form: with the client secret its form needs). */
  paymentRequested: { payment: PatientPayment; clientSecret?: string };
  /** (Patients) a payment offered to this patient ended: state, result, brand and last 4. */
  paymentEnded: PaymentEnd;
  /** A pay-by-link payment was sent in the chat. */
  paymentLink: PaymentLink;
  /** (Agents and supervisors) a payment of the room changed: the masked document. */
  payment: Payment;
  /** (Agents and supervisors) the room's recording paused or resumed (and its state on join). */
  recording: RecordingState;
  /** The other side's audio. */
  remoteAudio: MediaStream;
  /** The token expires soon (`exp` unix seconds, `expiresIn` seconds left): refresh it. */
  tokenExpiring: { exp: number; expiresIn: number };
  /** The session now runs on a fresh token that expires at `exp`. */
  tokenRefreshed: { exp: number };
  error: { code: string; message: string; fatal: boolean };
  closed: { code: number; reason: string };
}

export class CallError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'CallError';
  }
}

/** `wss://host/v1/rtc?access_token=...` for a gateway URL. */
export function rtcUrl(gateway: string, token: string): string {
  const u = new URL('/v1/rtc', gateway);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.searchParams.set('access_token', token);
  return u.toString();
}

export class Call {
  protected readonly events = new Emitter<CallEvents>();
  readonly signalling: Signalling;
  private pc: RTCPeerConnection | null = null;
  private chatChannel: RTCDataChannel | null = null;
  private sender: RTCRtpSender | null = null;
  private mic: MediaStream | null = null;
  private ownsMic = false;
  private audio: HTMLAudioElement | null = null;
  private mutedFlag = false;
  private signalChain: Promise<void> = Promise.resolve();
  private participantsById = new Map<string, ParticipantInfo>();
  /** The gateway's TURN servers for this participant (from `joined`, renewed on refresh). */
  private gatewayIceServers: IceServer[] = [];
  /** This participant, once joined. */
  me: ParticipantInfo | null = null;
  /** The room's recording state, when the gateway records and this is an agent or supervisor. */
  recordingState: RecordingState | null = null;
  room: string | null = null;

  protected constructor(protected readonly options: CallOptions) {
    const open = options.socket ?? ((url: string) => new WebSocket(url) as unknown as SocketLike);
    // A cluster node may redirect the join to the node holding the room: same token there.
    this.signalling = new Signalling(open(rtcUrl(options.url, options.token)), undefined, (url) => open(rtcUrl(url, options.token)));
    this.signalling.on('state', (s) => this.events.emit('state', s));
    this.signalling.on('error', (e) => this.events.emit('error', e));
    // One frame at a time: a candidate must not race ahead of the answer it belongs to.
    this.signalling.on('message', (m) => {
      this.signalChain = this.signalChain.then(() => this.onSignal(m));
    });
    this.signalling.on('closed', (c) => this.teardown(c));
    this.signalling.on('tokenRefreshed', (t) => {
      if (t.iceServers) this.renewIceServers(t.iceServers);
      this.events.emit('tokenRefreshed', { exp: t.exp });
    });
    this.signalling.on('tokenExpiring', (t) => {
      this.events.emit('tokenExpiring', t);
      if (options.refreshToken) void this.refreshFromOptions(options.refreshToken);
    });
  }

  /**
   * Gives the session a fresh token before its `exp`; resolves with the new `exp`. Refused
   * (another room, identity, role or grants, an invalid or revoked token), it rejects with a
   * `CallError` carrying the server's code, and the call goes on until the old `exp`.
   */
  refreshToken(token: string): Promise<number> {
    if (this.signalling.refreshing) return Promise.reject(new CallError('refresh_pending', 'A refresh is already waiting for its answer.'));
    return new Promise<number>((resolve, reject) => {
      const off = [
        this.signalling.on('tokenRefreshed', ({ exp }) => {
          off.forEach((f) => f());
          this.onTokenRefreshed(token);
          resolve(exp);
        }),
        this.signalling.on('refreshRefused', ({ code, message }) => {
          off.forEach((f) => f());
          reject(new CallError(code, message));
        }),
      ];
      if (!this.signalling.refresh(token)) {
        off.forEach((f) => f());
        reject(new CallError('not_connected', 'The call is not connected.'));
      }
    });
  }

  /** A refresh was accepted with `token` (subclasses use it for their HTTP calls). */
  protected onTokenRefreshed(_token: string): void {}

  private async refreshFromOptions(fetchToken: () => Promise<string>): Promise<void> {
    try {
      await this.refreshToken(await fetchToken());
    } catch (e) {
      const code = e instanceof CallError ? e.code : 'refresh_failed';
      this.events.emit('error', { code, message: `The session could not be extended: ${(e as Error).message}`, fatal: false });
    }
  }

  /** Joins the room named in the token; resolves once voice and chat are connected. */
  static async join(options: CallOptions): Promise<Call> {
    const call = new Call(options);
    await call.connect();
    return call;
  }

  on<K extends keyof CallEvents>(event: K, handler: (payload: CallEvents[K]) => void): () => void {
    return this.events.on(event, handler);
  }

  get muted(): boolean {
    return this.mutedFlag;
  }

  /** The others in the room. */
  get participants(): ParticipantInfo[] {
    return [...this.participantsById.values()];
  }

  /** True when this participant can send keypad tones. */
  get canSendDigits(): boolean {
    return this.sender?.dtmf?.canInsertDTMF === true;
  }

  protected async connect(): Promise<void> {
    const joined = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new CallError('join_timeout', 'The call did not connect in time.')), this.options.joinTimeoutMs ?? 15_000);
      const off = [
        this.signalling.on('joined', async (j) => {
          this.me = j.participant;
          this.room = j.room;
          this.gatewayIceServers = j.iceServers;
          for (const p of j.participants) this.participantsById.set(p.participant_id, p);
          try {
            await this.negotiate();
          } catch (e) {
            clearTimeout(timer);
            reject(e instanceof CallError ? e : new CallError('media_failed', `Voice could not start: ${String(e)}`));
          }
        }),
        this.signalling.on('closed', (c) => {
          clearTimeout(timer);
          reject(new CallError('closed', c.reason || 'The call was closed.'));
        }),
      ];
      this.chatOpen = () => {
        clearTimeout(timer);
        off.forEach((f) => f());
        this.events.emit('state', 'connected');
        resolve();
      };
    });
    await joined;
  }

  private chatOpen: () => void = () => {};

  private async negotiate(): Promise<void> {
    const config = this.rtcConfiguration();
    const mic = this.options.microphone ?? await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
    this.ownsMic = !this.options.microphone;
    this.mic = mic;
    const pc = this.options.peerConnection?.(config) ?? new RTCPeerConnection(config);
    this.pc = pc;
    const dc = pc.createDataChannel('chat');
    this.chatChannel = dc;
    dc.onopen = () => this.chatOpen();
    dc.onmessage = (ev) => this.onChat(ev.data);
    pc.onicecandidate = (ev) => {
      if (ev.candidate) {
        this.signalling.send({ type: 'candidate', candidate: ev.candidate.candidate, sdpMid: ev.candidate.sdpMid, sdpMLineIndex: ev.candidate.sdpMLineIndex });
      }
    };
    pc.ontrack = (ev) => {
      const stream = ev.streams[0] ?? new MediaStream([ev.track]);
      const el = this.options.audioElement ?? this.audio ?? document.createElement('audio');
      el.autoplay = true;
      el.srcObject = stream;
      el.play().catch(() => {});
      this.audio = el;
      this.events.emit('remoteAudio', stream);
    };
    const track = mic.getAudioTracks()[0];
    if (!track) throw new CallError('no_microphone', 'No microphone is available.');
    this.sender = pc.addTrack(track, mic);
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    this.signalling.send({ type: 'offer', sdp: offer.sdp ?? '' });
  }

  /** The peer connection's configuration: the app's servers, then the gateway's. */
  rtcConfiguration(): RTCConfiguration {
    const iceServers: RTCIceServer[] = [...(this.options.iceServers ?? []), ...this.gatewayIceServers];
    const policy = this.options.iceTransportPolicy ?? 'all';
    if (policy === 'relay' && !iceServers.some((s) => [s.urls].flat().some((u) => /^turns?:/.test(u)))) {
      throw new CallError('no_relay', 'iceTransportPolicy "relay" needs a TURN server, and the gateway offered none.');
    }
    return { iceServers, iceTransportPolicy: policy };
  }

  /** Fresh TURN credentials (on `token_refreshed`): used by later ICE restarts. */
  private renewIceServers(servers: IceServer[]): void {
    this.gatewayIceServers = servers;
    if (!this.pc) return;
    try {
      this.pc.setConfiguration(this.rtcConfiguration());
    } catch (e) {
      this.events.emit('error', { code: 'ice_servers', message: `The TURN credentials could not be renewed: ${String(e)}`, fatal: false });
    }
  }

  private async onSignal(m: ServerMessage): Promise<void> {
    switch (m.type) {
      case 'answer':
        await this.pc?.setRemoteDescription({ type: 'answer', sdp: m.sdp }).catch((e) => this.events.emit('error', { code: 'media_failed', message: String(e), fatal: false }));
        return;
      case 'candidate':
        await this.pc?.addIceCandidate({ candidate: m.candidate, sdpMid: m.sdpMid ?? '0', sdpMLineIndex: m.sdpMLineIndex ?? 0 }).catch(() => {});
        return;
      case 'participant_joined':
        this.participantsById.set(m.participant.participant_id, m.participant);
        this.events.emit('participantJoined', m.participant);
        return;
      case 'participant_left':
        this.participantsById.delete(m.participant_id);
        this.events.emit('participantLeft', { participant_id: m.participant_id });
        return;
      case 'mute': {
        const p = this.participantsById.get(m.participant_id);
        if (p) p.muted = m.muted;
        this.events.emit('mute', { participant_id: m.participant_id, muted: m.muted });
        return;
      }
      case 'payment_requested':
        this.events.emit('paymentRequested', m.client_secret === undefined ? { payment: m.payment } : { payment: m.payment, clientSecret: m.client_secret });
        return;
      case 'payment':
        this.onPayment(m.payment);
        return;
      case 'payment_ended':
        this.events.emit('paymentEnded', m.payment);
        return;
      case 'recording':
        this.recordingState = m.recording;
        this.events.emit('recording', m.recording);
        return;
      default:
        return;
    }
  }

  /** A `payment` message (agents and supervisors). */
  protected onPayment(p: Payment): void {
    this.events.emit('payment', p);
  }

  private onChat(data: unknown): void {
    const m: ChatEvent | null = parseChatEvent(data);
    if (!m) return;
    switch (m.type) {
      case 'chat':
        this.events.emit('chat', { id: m.id, ts: m.ts, from: m.from, text: m.text, redacted: m.redacted });
        return;
      case 'chat_retract':
        this.events.emit('chatRetract', { id: m.id, text: m.text });
        return;
      case 'payment_link':
        this.events.emit('paymentLink', { id: m.id, ts: m.ts, from: m.from, payment: m.payment, url: m.url });
        return;
      case 'error':
        this.events.emit('error', { code: m.code, message: m.message, fatal: false });
        return;
    }
  }

  /** Sends a chat message (up to 4 KiB). */
  sendChat(text: string): void {
    if (this.chatChannel?.readyState !== 'open') throw new CallError('not_connected', 'The chat is not connected.');
    if (typeof text !== 'string' || text.trim() === '') throw new CallError('empty_message', 'The message is empty.');
    this.chatChannel.send(JSON.stringify({ type: 'chat', text }));
  }

  /** Mutes or unmutes the microphone; the room is told. */
  setMuted(muted: boolean): void {
    this.mutedFlag = muted;
    for (const t of this.mic?.getAudioTracks() ?? []) t.enabled = !muted;
    this.signalling.send({ type: 'mute', muted });
  }

  /** Sends keypad tones (`0-9`, `*`, `#`) as RFC 4733 events; the server masks them. */
  sendDigits(tones: string, durationMs = 100, gapMs = 70): void {
    if (!/^[0-9*#]{1,64}$/.test(tones)) throw new CallError('invalid_digits', 'Digits must be 0-9, * or #.');
    const dtmf = this.sender?.dtmf;
    if (!dtmf?.canInsertDTMF) throw new CallError('dtmf_unavailable', 'This call cannot send keypad tones.');
    dtmf.insertDTMF(tones, durationMs, gapMs);
  }

  /** Leaves the room and releases the microphone. */
  leave(): void {
    this.signalling.leave();
  }

  private teardown(c: { code: number; reason: string }): void {
    this.chatChannel?.close();
    this.pc?.close();
    if (this.ownsMic) for (const t of this.mic?.getTracks() ?? []) t.stop();
    if (this.audio) this.audio.srcObject = null;
    this.events.emit('closed', c);
  }
}
