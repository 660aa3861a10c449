import { randomBytes } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { hash, type Options, verify } from '@node-rs/argon2';

/**
 * argon2id parameters, explicit (STACK.md; OWASP minimum m=19 MiB, t=2, p=1).
 * `Algorithm` is a const enum that isolatedModules cannot read (and the binding
 * exports it empty at run time): 2 is `Algorithm.Argon2id`.
 */
export const ARGON2ID_OPTIONS = Object.freeze({
  algorithm: 2,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
  outputLen: 32,
} satisfies Options);

/**
 * Password hashing (spec §6.3: only argon2id hashes are stored). `verify` takes the
 * same time whether or not there is a hash to check: without one it checks a dummy
 * hash of the same parameters, so an unknown user costs what a wrong password costs.
 */
@Injectable()
export class PasswordHasher {
  private readonly log = new Logger('PasswordHasher');
  private dummy: Promise<string> | undefined;

  /** The argon2id PHC string of `password` (used exactly as given, spec §3). */
  hash(password: string): Promise<string> {
    return hash(password, ARGON2ID_OPTIONS);
  }

  /**
   * True when `password` matches `stored`. With no stored hash (unknown or pending
   * user) it verifies against the dummy hash and answers false.
   */
  async verify(stored: string | null | undefined, password: string): Promise<boolean> {
    const target = stored ?? (await this.dummyHash());
    let ok: boolean;
    try {
      ok = await verify(target, password);
    } catch {
      // a malformed stored hash: never log it or the password
      this.log.warn('a stored password hash could not be parsed; treated as a mismatch');
      ok = false;
    }
    return ok && stored !== null && stored !== undefined;
  }

  private dummyHash(): Promise<string> {
    this.dummy ??= hash(randomBytes(32), ARGON2ID_OPTIONS);
    return this.dummy;
  }
}
