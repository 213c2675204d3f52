import { UpstreamError } from './provider-types.js';

/**
 * Turns a model version's `credentialsRef` into the secret to send. The registry stores only the
 * reference (`env:NAME` or `none`); the secret lives in this process's environment and nowhere
 * else. Found values are cached (the environment of a running process does not change under
 * it, and reading `process.env` is not free on the request path); a missing variable is looked
 * up again on the next call so an operator's fix takes effect without a restart.
 */
export class CredentialResolver {
  private readonly cache = new Map<string, string>();

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  /** The secret for `ref`, or null when the provider needs none. Throws when it is not set. */
  resolve(ref: string): string | null {
    if (ref === 'none') return null;
    const cached = this.cache.get(ref);
    if (cached !== undefined) return cached;
    if (!ref.startsWith('env:')) {
      throw new UpstreamError('credentials', `unsupported credentials reference '${ref}'`);
    }
    const name = ref.slice(4);
    const value = this.env[name];
    if (!value) {
      throw new UpstreamError(
        'credentials',
        `environment variable ${name} (the model version's credential) is not set`,
      );
    }
    this.cache.set(ref, value);
    return value;
  }
}
