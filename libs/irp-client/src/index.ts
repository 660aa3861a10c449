/**
 * @irp/client — a Node TLS client of IRP 1.0 (spec §1–§4): connect (directly or
 * by DNS SRV), greeting, pipelined requests matched by id, notifies, raw XML.
 */
export * from './irp-client.js';
export * from './srv-resolver.js';
export * from './notification-stream.js';
export * from './errors/irp-client.error.js';
export * from './errors/irp-connect.error.js';
export * from './errors/irp-connection-closed.error.js';
export * from './errors/irp-result.error.js';
export * from './errors/irp-timeout.error.js';
