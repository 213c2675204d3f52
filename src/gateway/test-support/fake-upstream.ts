import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface UpstreamCall {
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
  /** The gateway closed the connection before the answer was complete. */
  aborted: boolean;
  closed: Promise<void>;
}

export type FakeHandler = (call: UpstreamCall, res: ServerResponse) => void;

export interface FakeUpstream {
  /** Base URL (no path): OpenAI-compatible endpoints use `${url}/v1`. */
  url: string;
  calls: UpstreamCall[];
  /** Replaces the answer logic for the following requests. */
  handle(fn: FakeHandler): void;
  close(): Promise<void>;
}

/**
 * A tiny programmable provider for the cases the simulator does not play on purpose: a stream
 * with a garbage event, a request the test holds open to watch it being aborted, headers the
 * test wants to see. Records every call.
 */
export async function startFakeUpstream(initial: FakeHandler): Promise<FakeUpstream> {
  let handler = initial;
  const calls: UpstreamCall[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let resolveClosed!: () => void;
      const call: UpstreamCall = {
        path: req.url ?? '/',
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>,
        aborted: false,
        closed: new Promise((r) => {
          resolveClosed = r;
        }),
      };
      res.on('close', () => {
        if (!res.writableFinished) call.aborted = true;
        resolveClosed();
      });
      calls.push(call);
      handler(call, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    handle: (fn) => {
      handler = fn;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A valid OpenAI chat completion with the given text. */
export function openAiCompletion(model: string, text: string): string {
  return JSON.stringify({
    id: 'chatcmpl-fake',
    object: 'chat.completion',
    created: 1_767_225_600,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
  });
}

/** OpenAI stream frames for the given text pieces, ending with [DONE]. */
export function openAiFrames(model: string, pieces: string[]): string[] {
  const chunk = (delta: Record<string, unknown>, finish: string | null) =>
    `data: ${JSON.stringify({
      id: 'chatcmpl-fake',
      object: 'chat.completion.chunk',
      created: 1_767_225_600,
      model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    })}\n\n`;
  return [
    chunk({ role: 'assistant', content: '' }, null),
    ...pieces.map((p) => chunk({ content: p }, null)),
    chunk({}, 'stop'),
    'data: [DONE]\n\n',
  ];
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}
