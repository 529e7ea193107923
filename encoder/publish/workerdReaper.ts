// Miniflare runs workerd as a child process and stops it on dispose or normal exit, but a parent killed
// with SIGKILL leaves it running forever. A tiny watchdog process holds a pipe from the parent; when the
// parent dies the pipe closes and the watchdog kills the workerd processes it was given. Linux only
// (it finds the children through /proc); elsewhere it does nothing.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** Pids of this process's children whose command name is `name`. */
export function childPids(name: string, parent = process.pid): number[] {
  if (!existsSync('/proc')) return [];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised command: state, ppid, ...
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (comm === name && ppid === parent) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

const watchdog = `
const pids = process.argv.slice(1).map(Number);
const fs = require('node:fs');
process.stdin.on('data', () => {});
process.stdin.on('close', () => {
  for (const pid of pids) {
    try {
      if (fs.readFileSync('/proc/' + pid + '/comm', 'utf8').trim() === 'workerd') process.kill(pid, 'SIGKILL');
    } catch {}
  }
  process.exit(0);
});
`;

/** Kills `pids` if this process dies without stopping the watchdog; call the result to stop it. */
export function killWithParent(pids: readonly number[]): () => void {
  if (pids.length === 0) return () => {};
  const child: ChildProcess = spawn(process.execPath, ['-e', watchdog, ...pids.map(String)], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  child.unref();
  (child.stdin as unknown as { unref(): void }).unref();
  return () => {
    child.kill('SIGTERM');
  };
}
