import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GATEWAY_CONFIG, type GatewayConfigInput, resolveGatewayConfig } from './gateway-config.js';
import { GatewayConfigSchema, type GatewayConfigSection } from './gateway-config-schema.js';
import { DEFAULT_PIN_STORE_CONFIG } from './pins/create-pin-store.js';

describe('GatewayConfigSchema', () => {
  it('fills exactly the defaults the gateway uses, so the file format and the code cannot drift', () => {
    const validate = new Ajv({ useDefaults: true, strict: false }).compile(GatewayConfigSchema);
    const filled: Record<string, unknown> = {};
    expect(validate(filled)).toBe(true);
    const { pins, ...gateway } = filled as GatewayConfigSection;
    expect(gateway).toEqual(DEFAULT_GATEWAY_CONFIG);
    expect(pins).toEqual(DEFAULT_PIN_STORE_CONFIG);
    const input: GatewayConfigInput = gateway;
    expect(resolveGatewayConfig(input)).toEqual(DEFAULT_GATEWAY_CONFIG);
  });

  it('rejects unknown keys and out-of-range values', () => {
    const validate = new Ajv({ useDefaults: true, strict: false }).compile(GatewayConfigSchema);
    expect(validate({ breaker: { errorRate: 2 } })).toBe(false);
    expect(validate({ telemetry: { flushEvery: 1 } })).toBe(false);
  });
});
