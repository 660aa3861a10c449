import { Initial1764100000000 } from './1764100000000-initial.js';
import { Audit1764200000000 } from './1764200000000-audit.js';
import { Identity1764200000001 } from './1764200000001-identity.js';
import { Addresses1764300000000 } from './1764300000000-addresses.js';
import { Certificates1764400000000 } from './1764400000000-certificates.js';
import { Backups1764400000001 } from './1764400000001-backups.js';

/** Every migration, in order. Committed, explicit, with `up` and `down` (house rule 7). */
export const MIGRATIONS = [
  Initial1764100000000,
  Audit1764200000000,
  Identity1764200000001,
  Addresses1764300000000,
  Certificates1764400000000,
  Backups1764400000001,
];
