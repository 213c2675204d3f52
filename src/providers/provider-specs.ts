import type { ProviderKind } from '../registry/types.js';

/**
 * How each provider kind is addressed: the path under the version's endpoint and the headers
 * that carry the credential. Everything else about the call is the same for both.
 */
export interface ProviderSpec {
  /** Path of the completion resource below the endpoint's own path. */
  resourcePath(endpointPath: string): string;
  headers(
    credential: string | null,
    stream: boolean,
    pass: Readonly<Record<string, string>> | undefined,
  ): Record<string, string>;
}

const trimSlash = (p: string) => (p.endsWith('/') ? p.slice(0, -1) : p);

/** OpenAI-compatible servers (OpenAI, vLLM, llama.cpp...): the endpoint is the `/v1` base. */
const openAiSpec: ProviderSpec = {
  resourcePath: (base) => `${trimSlash(base)}/chat/completions`,
  headers(credential, stream) {
    const h: Record<string, string> = {
      'content-type': 'application/json',
      accept: stream ? 'text/event-stream' : 'application/json',
    };
    if (credential) h.authorization = `Bearer ${credential}`;
    return h;
  },
};

export const DEFAULT_ANTHROPIC_VERSION = '2023-06-01';

/** Anthropic: the endpoint is the host root (as in the official SDK's baseURL); `/v1` is added. */
const anthropicSpec: ProviderSpec = {
  resourcePath(base) {
    const b = trimSlash(base);
    return b.endsWith('/v1') ? `${b}/messages` : `${b}/v1/messages`;
  },
  headers(credential, stream, pass) {
    const h: Record<string, string> = {
      'content-type': 'application/json',
      accept: stream ? 'text/event-stream' : 'application/json',
      'anthropic-version': pass?.['anthropic-version'] ?? DEFAULT_ANTHROPIC_VERSION,
    };
    const beta = pass?.['anthropic-beta'];
    if (beta) h['anthropic-beta'] = beta;
    if (credential) h['x-api-key'] = credential;
    return h;
  },
};

export const PROVIDER_SPECS: Readonly<Record<ProviderKind, ProviderSpec>> = {
  'openai-compatible': openAiSpec,
  anthropic: anthropicSpec,
};
