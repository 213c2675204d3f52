import { fileURLToPath } from 'node:url';

/**
 * Where the real BFCL data lives: `shared/data/bfcl` beside the repository (as on developers'
 * machines and in CI's clone), or SWITCHYARD_BFCL_DIR.
 */
export const BFCL_DIR =
  process.env.SWITCHYARD_BFCL_DIR ?? fileURLToPath(new URL('../../../shared/data/bfcl', import.meta.url));
