import type { Readable } from 'node:stream';
import type { Cancellation } from './abort-handle.js';
import { toUpstreamError } from './http-provider-client.js';
import { UpstreamError } from './provider-types.js';

/**
 * Reads a whole (non-streamed) upstream body, bounded: a provider that sends more than
 * `maxBytes` is cut off rather than allowed to exhaust the gateway's memory. Plain 'data'
 * listeners rather than an async iterator: this runs once per request.
 */
export function readBody(body: Readable, maxBytes: number, signal?: Cancellation): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        body.destroy(
          new UpstreamError('too_large', `the provider's response is larger than ${maxBytes} bytes`),
        );
        return;
      }
      chunks.push(chunk);
    });
    body.once('end', () =>
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)),
    );
    body.once('error', (e: unknown) => reject(toUpstreamError(e, signal)));
  });
}

/** Releases a body we will not read, so its pooled connection can be reused or closed. */
export function discardBody(body: Readable): void {
  if (!body.destroyed) {
    body.on('error', () => {});
    body.resume();
  }
}

/** Parses JSON text, or returns undefined: upstream bodies are untrusted. */
export function tryParseJson(buf: Buffer | string): unknown {
  try {
    return JSON.parse(typeof buf === 'string' ? buf : buf.toString('utf8'));
  } catch {
    return undefined;
  }
}
