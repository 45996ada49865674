/**
 * The kit's engines in-process against a small fake token: the PIN loop (retries shown, the last
 * try refused, blocked), PIN sources, absent devices (confirm, skip, no terminal), the touch
 * message, several devices, stanza errors with their indices, recipient-v1.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { PluginUi } from '../../../src/age/plugin/ui.ts';
import { UiFailure } from '../../../src/age/plugin/ui.ts';
import { reportable, unwrapFiles, type UnwrapEnvironment } from '../../../src/plugins/kit/identity.ts';
import { wrapFileKeys } from '../../../src/plugins/kit/recipient.ts';
import type { PinSource } from '../../../src/plugins/kit/pinSource.ts';
import { unwrapRequest, type RemoteUnwrap, type RemoteUnwrapRequest } from '../../../src/plugins/kit/remote.ts';
import { fakeFamily, fakeStanza, identityBytes, TEXTS, token, type FakeToken } from './fakeFamily.ts';

interface Recorded extends PluginUi {
  prompts: string[];
  messages: string[];
  questions: string[];
}

/** A user who types `pins` in order and answers `confirms` in order (a function runs first, e.g. to plug a token in). */
function user(pins: string[] = [], confirms: (boolean | 'unsupported' | (() => boolean))[] = []): Recorded {
  const prompts: string[] = [];
  const messages: string[] = [];
  const questions: string[] = [];
  return {
    prompts,
    messages,
    questions,
    async message(t) {
      messages.push(t);
    },
    async confirm(q) {
      questions.push(q);
      const a = confirms.shift();
      if (a === undefined) throw new UiFailure('FAIL', 'no answer');
      return typeof a === 'function' ? a() : a;
    },
    async requestPublic() {
      throw new UiFailure('UNSUPPORTED', 'no');
    },
    async requestSecret(p) {
      prompts.push(p);
      const pin = pins.shift();
      if (pin === undefined) throw new UiFailure('FAIL', 'declined');
      return pin;
    },
  };
}

const fileKey = () => new Uint8Array(randomBytes(16));
const id = (index: number, device: number, key: number) => ({ index, plugin: 'fake', data: identityBytes(device, key) });

function setup(tokens: [number, FakeToken][]) {
  const map = new Map(tokens);
  return { map, family: fakeFamily(map) };
}

function env(ui: Recorded, extra: Partial<UnwrapEnvironment> = {}): UnwrapEnvironment {
  return { ui, sleep: async () => undefined, interactive: true, ...extra };
}

describe('identity-v1 engine: PIN loop', () => {
  const fk = fileKey();

  it('a right PIN unwraps; the touch message comes before the operation', async () => {
    const { map, family } = setup([[1, token()]]);
    const ui = user(['123456']);
    const r = await unwrapFiles(family, { identities: [id(0, 1, 7)], files: [[fakeStanza(1, 7, fk)]] }, env(ui));
    expect(r.fileKeys.get(0)).toEqual(fk);
    expect(r.errors).toEqual([]);
    expect(ui.prompts).toEqual(['Enter PIN for fake token 1']);
    expect(ui.messages).toEqual(['Touch fake token 1']);
    expect(map.get(1)!.verified).toBe(true);
    expect(family.released).toBe(1);
  });

  it('a wrong PIN re-prompts with the tries left; an entry that cannot be a PIN re-prompts without spending a try', async () => {
    const { map, family } = setup([[1, token()]]);
    const ui = user(['000000', '123', '123456']);
    const r = await unwrapFiles(family, { identities: [id(0, 1, 7)], files: [[fakeStanza(1, 7, fk)]] }, env(ui));
    expect(r.fileKeys.get(0)).toEqual(fk);
    expect(ui.prompts).toEqual([
      'Enter PIN for fake token 1',
      'Invalid PIN (2 tries remaining before it is blocked). Enter PIN for fake token 1',
      'PIN was too short. Enter PIN for fake token 1',
    ]);
    expect(map.get(1)!.retries).toBe(3);
  });

  it('the last try is never spent', async () => {
    const { map, family } = setup([[1, token()]]);
    const ui = user(['000000', '111111', '123456']);
    const r = await unwrapFiles(family, { identities: [id(0, 1, 7)], files: [[fakeStanza(1, 7, fk)]] }, env(ui));
    expect(r.fileKeys.size).toBe(0);
    expect(r.errors).toEqual([{ kind: 'identity', index: 0, message: 'Only 1 PIN try is left on fake token 1' }]);
    expect(ui.prompts).toHaveLength(2);
    expect(map.get(1)!.retries).toBe(1);
  });

  it('a blocked PIN is reported without a prompt', async () => {
    const { family } = setup([[1, token({ retries: 0 })]]);
    const ui = user(['123456']);
    const r = await unwrapFiles(family, { identities: [id(0, 1, 7)], files: [[fakeStanza(1, 7, fk)]] }, env(ui));
    expect(r.errors).toEqual([{ kind: 'identity', index: 0, message: 'The PIN of fake token 1 is blocked' }]);
    expect(ui.prompts).toEqual([]);
  });

  it('a declined prompt is "PIN required"; a PIN verified in this card session is not asked again (policy once), but is with policy always', async () => {
    const { map, family } = setup([[1, token()]]);
    const declined = await unwrapFiles(family, { identities: [id(0, 1, 7)], files: [[fakeStanza(1, 7, fk)]] }, env(user()));
    expect(declined.errors).toEqual([{ kind: 'identity', index: 0, message: 'A PIN is required for fake token 1' }]);
    map.get(1)!.verified = true;
    const once = user();
    expect((await unwrapFiles(family, { identities: [id(0, 1, 7)], files: [[fakeStanza(1, 7, fk)]] }, env(once))).fileKeys.size).toBe(1);
    expect(once.prompts).toEqual([]);
    map.get(1)!.pinPolicy = 'always';
    const always = user(['123456']);
    expect((await unwrapFiles(family, { identities: [id(0, 1, 7)], files: [[fakeStanza(1, 7, fk)]] }, env(always))).fileKeys.size).toBe(1);
    expect(always.prompts).toHaveLength(1);
  });

  it('PIN sources come before the user; a wrong PIN from a non-interactive source is not tried twice', async () => {
    const { map, family } = setup([[1, token()]]);
    const asked: string[] = [];
    const outcomes: boolean[] = [];
    const ci: PinSource = { interactive: false, pin: async (req) => (asked.push(req.prompt), '999999'), outcome: (_, ok) => void outcomes.push(ok) };
    const ui = user(['123456']);
    const r = await unwrapFiles(family, { identities: [id(0, 1, 7)], files: [[fakeStanza(1, 7, fk)]] }, env(ui, { pinSources: [ci] }));
    expect(r.fileKeys.size).toBe(1);
    expect(asked).toEqual(['Enter PIN for fake token 1']);
    expect(outcomes).toEqual([false]);
    expect(ui.prompts).toEqual(['Invalid PIN (2 tries remaining before it is blocked). Enter PIN for fake token 1']);
    expect(map.get(1)!.retries).toBe(3);
    // A source that knows the PIN: the user is never asked.
    map.get(1)!.verified = false;
    const agent: PinSource = { interactive: false, pin: async () => '123456' };
    const quiet = user();
    expect((await unwrapFiles(family, { identities: [id(0, 1, 7)], files: [[fakeStanza(1, 7, fk)]] }, env(quiet, { pinSources: [agent] }))).fileKeys.size).toBe(1);
    expect(quiet.prompts).toEqual([]);
  });

  it('a touch timeout fails the identity with its own message', async () => {
    const { family } = setup([[1, token({ touch: 'timeout', pinPolicy: 'never' })]]);
    const ui = user();
    const r = await unwrapFiles(family, { identities: [id(0, 1, 7)], files: [[fakeStanza(1, 7, fk)]] }, env(ui));
    expect(ui.messages).toEqual(['Touch fake token 1']);
    expect(r.errors).toEqual([{ kind: 'identity', index: 0, message: 'Fake token 1 was not touched in time' }]);
  });
});

describe('identity-v1 engine: absent devices', () => {
  const fk = fileKey();
  const req = { identities: [id(0, 1, 7)], files: [[fakeStanza(1, 7, fk)]] };

  it('asks through confirm and waits for the device', async () => {
    const { map, family } = setup([[1, token({ present: false, pinPolicy: 'never' })]]);
    const ui = user([], [() => ((map.get(1)!.present = true), true)]);
    const r = await unwrapFiles(family, req, env(ui));
    expect(ui.questions).toEqual(['Please insert fake token 1']);
    expect(r.fileKeys.get(0)).toEqual(fk);
  });

  it('"plugged in" while it is still absent asks again with the retry text; "skip" skips without an error', async () => {
    const { family } = setup([[1, token({ present: false })]]);
    const ui = user([], [true, false]);
    const r = await unwrapFiles(family, req, env(ui));
    expect(ui.questions).toEqual(['Please insert fake token 1', 'Could not open it. Please insert fake token 1']);
    expect(r.fileKeys.size).toBe(0);
    expect(r.errors).toEqual([]);
  });

  it('skipped without asking by the environment; without a terminal, an error that says what to do', async () => {
    const { family } = setup([[1, token({ present: false })]]);
    const logged: string[] = [];
    const quiet = user();
    const skipped = await unwrapFiles(family, req, env(quiet, { skipNotFound: true, log: (l) => logged.push(l) }));
    expect(quiet.questions).toEqual([]);
    expect(skipped.errors).toEqual([]);
    expect(logged).toContain('Skipping fake token 1');
    const noTty = await unwrapFiles(family, req, env(user(), { interactive: () => false }));
    expect(noTty.errors).toEqual([{ kind: 'identity', index: 0, message: 'Fake token 1 is not plugged in and there is no terminal' }]);
  });

  it('a client that cannot confirm: a message, then a bounded wait', async () => {
    const { family } = setup([[1, token({ present: false })]]);
    const ui = user([], ['unsupported']);
    const r = await unwrapFiles(family, req, env(ui));
    expect(ui.messages).toEqual(['Please insert fake token 1']);
    expect(r.errors).toEqual([{ kind: 'identity', index: 0, message: 'Timed out waiting for fake token 1' }]);
  });
});

describe('identity-v1 engine: matching, devices, errors', () => {
  it('two devices: only referenced ones are opened, the most-referenced first, each once', async () => {
    const { map, family } = setup([
      [1, token({ pinPolicy: 'never' })],
      [2, token({ pinPolicy: 'never' })],
      [3, token({ present: false })],
    ]);
    const keys = [fileKey(), fileKey(), fileKey()];
    const order: string[] = [];
    const ui = user();
    ui.message = async (t) => void order.push(t);
    const r = await unwrapFiles(
      family,
      { identities: [id(0, 1, 7), id(1, 2, 8), id(2, 2, 9), id(3, 3, 1)], files: [[fakeStanza(1, 7, keys[0]!)], [fakeStanza(2, 8, keys[1]!)], [fakeStanza(2, 9, keys[2]!)]] },
      env(ui),
    );
    expect([...r.fileKeys.keys()].sort()).toEqual([0, 1, 2]);
    expect(order).toEqual(['Touch fake token 2', 'Touch fake token 2', 'Touch fake token 1']);
    expect(map.get(1)!.opens).toBe(1);
    expect(map.get(2)!.opens).toBe(1);
    expect(ui.questions).toEqual([]); // device 3 is named by an identity but no stanza: never asked for
    expect(r.operations).toBe(3);
  });

  it('a malformed stanza fails its file with the stanza index in that file; identities that do not parse are reported', async () => {
    const { family } = setup([[1, token({ pinPolicy: 'never' })]]);
    const fk = fileKey();
    const r = await unwrapFiles(
      family,
      {
        identities: [{ index: 0, plugin: 'fake', data: Uint8Array.of(1) }, id(1, 1, 7), { index: 2, plugin: 'other', data: identityBytes(1, 7) }],
        files: [[{ type: 'X25519', args: ['x'], body: new Uint8Array(32) }, { type: 'fake', args: ['1'], body: new Uint8Array(16) }, fakeStanza(1, 7, fk)], [{ type: 'grease', args: [], body: new Uint8Array(0) }, fakeStanza(1, 7, fk)]],
      },
      env(user()),
    );
    expect(r.errors).toEqual([
      { kind: 'identity', index: 0, message: TEXTS.invalidIdentity },
      { kind: 'identity', index: 2, message: TEXTS.invalidIdentity },
      { kind: 'stanza', file: 0, index: 1, message: TEXTS.invalidStanza },
    ]);
    expect([...r.fileKeys.keys()]).toEqual([1]);
  });

  it('a stanza that does not open is a stanza error at its index; the next stanza of the same file still gets its turn', async () => {
    const { family } = setup([[1, token({ pinPolicy: 'never' })]]);
    const fk = fileKey();
    // The fake family opens a stanza only when its key byte matches; a tag match with a wrong body is "does not open".
    family.matches = (identity, s) => identity.device === s.device;
    const r = await unwrapFiles(family, { identities: [id(0, 1, 7)], files: [[fakeStanza(1, 5, fk), fakeStanza(1, 7, fk)]] }, env(user()));
    expect(r.fileKeys.get(0)).toEqual(fk);
    expect(r.errors).toEqual([{ kind: 'stanza', file: 0, index: 0, message: TEXTS.decryptFailed }]);
    expect(reportable(r)).toEqual([]);
  });
});

describe('recipient-v1 engine', () => {
  it('wraps every file key to recipients and to identities (read from the device)', async () => {
    const { family } = setup([[1, token()]]);
    const keys = [fileKey(), fileKey()];
    const r = await wrapFileKeys(family, { recipients: [{ index: 0, plugin: 'fake', data: identityBytes(2, 3) }], identities: [id(0, 1, 7)], fileKeys: keys });
    expect(r.errors).toEqual([]);
    expect(r.stanzas).toEqual(keys.map((k) => [fakeStanza(2, 3, k), fakeStanza(1, 7, k)]));
  });

  it('reports every bad recipient and identity, and wraps nothing then', async () => {
    const { family } = setup([[1, token({ present: false })]]);
    const r = await wrapFileKeys(family, {
      recipients: [{ index: 0, plugin: 'fake', data: Uint8Array.of(1) }, { index: 1, plugin: 'other', data: identityBytes(1, 1) }],
      identities: [id(0, 1, 7)],
      fileKeys: [fileKey()],
    });
    expect(r.stanzas).toEqual([]);
    expect(r.errors).toEqual([
      { kind: 'recipient', index: 0, message: TEXTS.invalidRecipient },
      { kind: 'recipient', index: 1, message: TEXTS.invalidRecipient },
      { kind: 'identity', index: 0, message: 'Could not open fake token 1' },
    ]);
  });

  it('answers the family’s label set, and refuses recipients whose label sets differ (post-quantum with classic) as Go age does', async () => {
    const { family } = setup([[1, token()]]);
    // Keys numbered >= 100 play post-quantum keys here.
    const labelled = { ...family, labels: (rs: { key: number }[]) => (rs.every((r) => r.key >= 100) ? ['postquantum'] : []) };
    const pq = await wrapFileKeys(labelled, { recipients: [{ index: 0, plugin: 'fake', data: identityBytes(2, 100) }], identities: [id(0, 1, 101)], fileKeys: [fileKey()] });
    expect([pq.errors, pq.labels]).toEqual([[], ['postquantum']]);
    const mixed = await wrapFileKeys(labelled, { recipients: [{ index: 0, plugin: 'fake', data: identityBytes(2, 100) }], identities: [id(0, 1, 7)], fileKeys: [fileKey()] });
    expect(mixed.stanzas).toEqual([]);
    expect(mixed.errors).toEqual([
      { kind: 'internal', message: "incompatible recipients: can't mix post-quantum and classic recipients, or the file would be vulnerable to quantum computers" },
    ]);
  });
});

describe('identity-v1 engine: a remote unwrap (the agent seam)', () => {
  /** The "agent": its own device access and the same family code, prompting through the ui the seam relays. */
  function remoteOver(agentSide: ReturnType<typeof setup>): RemoteUnwrap & { requests: RemoteUnwrapRequest[] } {
    const requests: RemoteUnwrapRequest[] = [];
    return {
      requests,
      async unwrap(req, ui) {
        requests.push(req);
        return unwrapFiles(agentSide.family, req, { ui, interactive: req.interactive, skipNotFound: req.skipNotFound, sleep: async () => undefined });
      },
    };
  }

  it('runs the whole request remotely with the same engine and relays its prompts; the local device is never opened', async () => {
    const fk = fileKey();
    const fk2 = fileKey();
    const agentSide = setup([[1, token()]]);
    const remote = remoteOver(agentSide);
    const local = setup([[1, token({ present: false })]]);
    const ui = user(['000000', '123456']);
    const r = await unwrapRequest(local.family, { identities: [id(0, 1, 7), id(1, 2, 9)], files: [[fakeStanza(1, 7, fk)], [fakeStanza(2, 9, fk2)], [fakeStanza(1, 7, fk2)]] }, { ...env(ui, { skipNotFound: true }), remote });
    expect([...r.fileKeys.entries()]).toEqual([
      [0, fk],
      [2, fk2],
    ]);
    expect(remote.requests).toMatchObject([{ family: 'fake', interactive: true, skipNotFound: true }]);
    expect(remote.requests[0]!.files).toHaveLength(3);
    // asked through the plugin's UI, retries shown as the engine shows them
    expect(ui.prompts).toEqual(['Enter PIN for fake token 1', 'Invalid PIN (2 tries remaining before it is blocked). Enter PIN for fake token 1']);
    expect(ui.messages).toContain('Touch fake token 1');
    expect(local.map.get(1)!.opens).toBe(0);
    expect(agentSide.map.get(1)!.verified).toBe(true);
  });

  it("the plugin's own non-interactive PIN source (CI) answers the remote's PIN request first, once; then the user", async () => {
    const fk = fileKey();
    const agentSide = setup([[1, token()]]);
    const ci: PinSource & { asked: number } = {
      interactive: false,
      asked: 0,
      async pin() {
        ci.asked++;
        return '000000';
      },
    };
    const ui = user(['123456']);
    const r = await unwrapRequest(setup([]).family, { identities: [id(0, 1, 7)], files: [[fakeStanza(1, 7, fk)]] }, { ...env(ui, { pinSources: [ci] }), remote: remoteOver(agentSide) });
    expect(r.fileKeys.get(0)).toEqual(fk);
    expect(ci.asked).toBe(1);
    expect(ui.prompts).toEqual(['Invalid PIN (2 tries remaining before it is blocked). Enter PIN for fake token 1']);
  });

  it('a remote that declines (no agent, a hung one) means the unwrap is done here, as without it', async () => {
    const fk = fileKey();
    let asked = 0;
    const declining: RemoteUnwrap = {
      async unwrap() {
        asked++;
        return undefined;
      },
    };
    const here = setup([[1, token({ pinPolicy: 'never' })]]);
    const r = await unwrapRequest(here.family, { identities: [id(0, 1, 7)], files: [[fakeStanza(1, 7, fk)]] }, { ...env(user()), remote: declining });
    expect(r.fileKeys.get(0)).toEqual(fk);
    expect(asked).toBe(1);
    expect(here.map.get(1)!.opens).toBe(1);
  });
});
