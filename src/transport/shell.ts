// Building remote command lines. Pure, so quoting (the part that goes wrong silently) is unit-tested.

/** Quotes one word for a POSIX shell. Plain words stay readable; anything else is single-quoted. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_\/.:=@%+,-]+$/.test(word)) return word;
  // Inside single quotes nothing is special except the quote itself: close, emit \', reopen.
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command line sshd should run. A non-root user with sudo enabled gets `sudo -n sh -c '...'`:
 * -n fails at once instead of waiting for a password prompt nobody will answer, and sh -c keeps
 * pipes and redirections inside the privileged shell. Stdin passes through sudo untouched.
 */
export function remoteCommand(command: string, login: { user: string; sudo: boolean }): string {
  return login.sudo && login.user !== 'root' ? `sudo -n sh -c ${shellQuote(command)}` : command;
}
