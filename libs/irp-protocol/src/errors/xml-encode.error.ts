import { ResultCode } from '../result-codes.js';
import { IrpProtocolError } from './irp-protocol.error.js';

/**
 * Thrown by the encoders when a value cannot be written as XML 1.0: a character
 * outside the XML `Char` production (C0 controls other than TAB/LF/CR, lone
 * surrogates, U+FFFE, U+FFFF), an invalid `Date`, a non-integer number. The
 * encoder refuses rather than silently dropping or replacing characters, so a
 * password or a note is never altered on the way. Code 2400 (command failed,
 * server-side error) so a server can answer with it directly.
 */
export class XmlEncodeError extends IrpProtocolError {
  /** Where in the message the bad value was (`element/@attribute` or `element`). */
  readonly path: string;

  /**
   * @param path where the bad value is
   * @param message what is wrong with it
   */
  constructor(path: string, message: string) {
    super(ResultCode.CommandFailed, `Cannot encode ${path}: ${message}`);
    this.name = 'XmlEncodeError';
    this.path = path;
  }
}
