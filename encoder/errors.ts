// Failures the user can act on: a bad config or argument, a missing or unreadable file, a job that
// cannot run as asked. The CLI prints their message alone (it names the file and the problem) and
// exits with code 2; any other error is a bug and keeps its stack trace.
export class UserError extends Error {
  override name = 'UserError';
}

/** A dataset that cannot be read as its config says: a missing path, a malformed list file or image. */
export class DataError extends UserError {
  override name = 'DataError';
}
