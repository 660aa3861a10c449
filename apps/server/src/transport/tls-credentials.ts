import { type TlsCredentials } from './tls-options.js';

/** Injection token of the {@link TlsCredentialsSource} the IRP listener uses (provided by the PKI module). */
export const TLS_CREDENTIALS = Symbol('TLS_CREDENTIALS');

/** The listener's current certificate; `onChange` lets it swap a renewed one in without a restart. */
export interface TlsCredentialsSource {
  current(): Promise<TlsCredentials>;
  onChange(listener: (credentials: TlsCredentials) => void): void;
}
