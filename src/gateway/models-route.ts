import type { IncomingHttpHeaders } from 'node:http';
import type { RoutingSnapshot, TenantRoute } from '../registry/routing-snapshot.js';
import type { Clock } from '../shared/clock.js';
import { authenticate } from './auth.js';
import { invalidKey, modelNotFound } from './gateway-error.js';

/** Anthropic's SDK sends `anthropic-version`; it gets Anthropic's list shape, everyone else OpenAI's. */
export const speaksAnthropic = (headers: IncomingHttpHeaders) =>
  typeof headers['anthropic-version'] === 'string';

interface ChannelInfo {
  id: string;
  createdAt: string;
}

function channelsOf(tenant: TenantRoute): ChannelInfo[] {
  return [...tenant.channels.values()]
    .map((c) => ({ id: c.binding.channel, createdAt: c.binding.createdAt }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

const openAiModel = (c: ChannelInfo) => ({
  id: c.id,
  object: 'model',
  created: Math.floor(Date.parse(c.createdAt) / 1000),
  owned_by: 'switchyard',
});

const anthropicModel = (c: ChannelInfo) => ({
  type: 'model',
  id: c.id,
  display_name: c.id,
  created_at: c.createdAt,
});

function tenantOf(headers: IncomingHttpHeaders, snapshot: RoutingSnapshot, nowMs: number): TenantRoute {
  const key = authenticate(headers, snapshot, nowMs);
  const tenant = snapshot.tenants.get(key.tenantId);
  if (!tenant) throw invalidKey();
  return tenant;
}

/** `GET /v1/models`: the channels the tenant may ask for (the versions behind them stay hidden). */
export function listModels(headers: IncomingHttpHeaders, snapshot: RoutingSnapshot, clock: Clock): unknown {
  const channels = channelsOf(tenantOf(headers, snapshot, clock.now()));
  if (speaksAnthropic(headers)) {
    return {
      data: channels.map(anthropicModel),
      has_more: false,
      first_id: channels[0]?.id ?? null,
      last_id: channels.at(-1)?.id ?? null,
    };
  }
  return { object: 'list', data: channels.map(openAiModel) };
}

/** `GET /v1/models/:id`: one channel, or 404. */
export function getModel(
  headers: IncomingHttpHeaders,
  snapshot: RoutingSnapshot,
  clock: Clock,
  id: string,
): unknown {
  const channel = channelsOf(tenantOf(headers, snapshot, clock.now())).find((c) => c.id === id);
  if (!channel) throw modelNotFound(id);
  return speaksAnthropic(headers) ? anthropicModel(channel) : openAiModel(channel);
}
