// edgehash: the encoder's command line. Each command is a module encoder/commands/<name>.ts exporting
// `command` (see commands/command.ts); `edgehash` alone lists them.
import { readdir } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { Command } from './commands/command.js';
import { UsageError } from './commands/command.js';
import { UserError } from './errors.js';

const commandsDir = new URL('./commands/', import.meta.url);
const commandNamePattern = /^[a-z][a-z0-9-]*$/;

async function commandNames(): Promise<string[]> {
  const files = await readdir(commandsDir);
  return files
    .filter((f) => f.endsWith('.ts') && f !== 'command.ts')
    .map((f) => f.slice(0, -3))
    .sort();
}

async function loadCommand(name: string): Promise<Command | undefined> {
  if (!commandNamePattern.test(name) || !(await commandNames()).includes(name)) return undefined;
  const module = (await import(new URL(`${name}.ts`, commandsDir).href)) as { command: Command };
  return module.command;
}

async function usage(): Promise<string> {
  const lines = await Promise.all((await commandNames()).map(async (n) => (await loadCommand(n))?.usage));
  return `usage:\n${lines.map((l) => `  edgehash ${l}`).join('\n')}`;
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  const command = name ? await loadCommand(name) : undefined;
  if (!command) throw new UsageError(`${name ? `unknown command ${name}\n` : ''}${await usage()}`);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: rest, options: command.options, allowPositionals: command.allowPositionals ?? false });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nusage: edgehash ${command.usage}`);
  }
  await command.run(parsed.values, parsed.positionals);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const known = error instanceof UserError;
  process.stderr.write(`edgehash: ${known ? (error as Error).message : ((error as Error).stack ?? error)}\n`);
  process.exit(known ? 2 : 1);
});
