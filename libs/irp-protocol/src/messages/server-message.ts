import { type Greeting } from './greeting.js';
import { type IrpNotify } from './notify.js';
import { type IrpResponse } from './responses.js';

/** Any document a server sends: the greeting, a response or a notify (spec §4). */
export type ServerMessage =
  | { kind: 'greeting'; greeting: Greeting }
  | { kind: 'response'; response: IrpResponse }
  | { kind: 'notify'; notify: IrpNotify };
