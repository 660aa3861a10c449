import { type CommandSpec } from '../cli/context.js';
import {
  addrLookupCommand,
  addrPolicyCommand,
  addrRegisterCommand,
  addrUnregisterCommand,
  addrWatchCommand,
  watchersApproveCommand,
  watchersListCommand,
  watchersRemoveCommand,
} from './addr.commands.js';
import { authUpaCommand } from './auth.commands.js';
import {
  backupListCommand,
  backupPullCommand,
  backupPushCommand,
  backupRmCommand,
} from './backup.commands.js';
import {
  certFetchCommand,
  certImportCommand,
  certKeygenCommand,
  certListCommand,
  certRenewCommand,
  certRequestCommand,
  certRevokeCommand,
  certShowCommand,
  certStatusCommand,
} from './cert.commands.js';
import { peerConnectCommand, peerListenCommand } from './peer.commands.js';
import {
  profileListCommand,
  profileRmCommand,
  profileShowCommand,
  profileUseCommand,
  trustForgetCommand,
  trustListCommand,
} from './profile.commands.js';
import { rawCommand } from './raw.command.js';
import {
  enrollCommand,
  loginCommand,
  passwdCommand,
  registerCommand,
  statusCommand,
  whoamiCommand,
} from './session.commands.js';
import { userInfoCommand, userListCommand, userUpdateCommand } from './user.commands.js';

/** Every command, in the order help lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  statusCommand,
  registerCommand,
  enrollCommand,
  loginCommand,
  whoamiCommand,
  passwdCommand,
  userInfoCommand,
  userUpdateCommand,
  userListCommand,
  certRequestCommand,
  certListCommand,
  certShowCommand,
  certStatusCommand,
  certRevokeCommand,
  certRenewCommand,
  certKeygenCommand,
  certImportCommand,
  certFetchCommand,
  authUpaCommand,
  backupPushCommand,
  backupPullCommand,
  backupListCommand,
  backupRmCommand,
  addrRegisterCommand,
  addrUnregisterCommand,
  addrLookupCommand,
  addrWatchCommand,
  addrPolicyCommand,
  watchersListCommand,
  watchersApproveCommand,
  watchersRemoveCommand,
  rawCommand,
  peerListenCommand,
  peerConnectCommand,
  profileListCommand,
  profileUseCommand,
  profileShowCommand,
  profileRmCommand,
  trustListCommand,
  trustForgetCommand,
];

/** The command whose words start `positionals` (longest match), with the words used. */
export function findCommand(
  positionals: readonly string[],
): { command: CommandSpec; words: number } | undefined {
  let best: { command: CommandSpec; words: number } | undefined;
  for (const command of COMMANDS) {
    const n = command.path.length;
    if (n > positionals.length) continue;
    if (command.path.every((w, i) => positionals[i] === w) && (!best || n > best.words))
      best = { command, words: n };
  }
  return best;
}
