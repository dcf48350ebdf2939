import { closestName } from '@embedkit/core/provider';
import { environmentSwitch } from './args.js';
import { BULK_HELP, bulkCommand } from './bulk.js';
import { EMBED_HELP, embedCommand } from './embed.js';
import { CliError, describeError, EXIT, UsageError } from './errors.js';
import { MODELS_HELP, modelsCommand } from './models.js';
import { replayMismatchReport } from './providers.js';
import { INDEX_HELP, indexCommand, SEARCH_HELP, searchCommand } from './search.js';

export const HELP = `embedkit: text embeddings from the command line, over any installed embedkit provider.

Usage: embedkit <command> [options]

Commands:
  embed <text>...            embed texts and print the vectors
  bulk <input> --out <file>  embed a whole file (.txt, .jsonl, .csv, stdin) into .jsonl or .npy;
                             bounded memory, resumable after a crash or Ctrl-C
  index <input> --out <ekx>  build a search index of a file
  search <ekx> <query>       the most similar documents of an index
  models                     the models of the installed providers and their capabilities
  help [command]             this help, or a command's

Models are named provider:model, e.g. openai:text-embedding-3-small, voyage:voyage-3.5,
gemini:gemini-embedding-001, jina:jina-embeddings-v3. A provider is the package
@embedkit/provider-<name>; install the ones you use. openai-compatible:<model> with --base-url
talks to any server that speaks OpenAI's /embeddings (vLLM, TEI, Ollama, gateways).

Keys come from the usual environment variables: OPENAI_API_KEY, VOYAGE_API_KEY,
GEMINI_API_KEY (or GOOGLE_API_KEY), JINA_API_KEY; --api-key-env <VAR> names another one.
API roots: --base-url <url>, else EMBEDKIT_BASE_URL, else the provider's own variable
(OPENAI_BASE_URL, VOYAGE_BASE_URL, GEMINI_BASE_URL, JINA_BASE_URL), else its public host.
--replay <dir> answers from recorded cassettes instead of the network, so every command can be
tried without a key: each recording answers the inputs and options it was recorded with.

With @embedkit/cache-disk installed beside the CLI, vectors are cached on disk ($XDG_CACHE_HOME/embedkit,
else ~/.cache/embedkit; --cache <dir> for another place), so running a command again over the same
inputs pays only for the new ones; several commands may share one cache at once. --no-cache (or
EMBEDKIT_NO_CACHE=1) turns it off.

Run "embedkit <command> --help" for a command's options.
`;

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string }> = {
  embed: { run: embedCommand, help: EMBED_HELP },
  bulk: { run: bulkCommand, help: BULK_HELP },
  index: { run: indexCommand, help: INDEX_HELP },
  search: { run: searchCommand, help: SEARCH_HELP },
  models: { run: modelsCommand, help: MODELS_HELP },
};

/** Runs the command line `argv` (without `node` and the script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    // No command is a usage error, said on stderr as every other one is: the help on stdout with exit 2
    // went down a pipe as if it were the command's output, while the status said the command was wrong.
    if (command === undefined) {
      const names = Object.keys(COMMANDS);
      throw new UsageError(
        `no command given: embedkit <command> [options], where <command> is ${names.slice(0, -1).join(', ')} or ${names.at(-1)}.`,
      );
    }
    if (command === '--help' || command === '-h') {
      process.stdout.write(HELP);
      return EXIT.ok;
    }
    if (command === '--version' || command === '-v') {
      process.stdout.write(`${await version()}\n`);
      return EXIT.ok;
    }
    if (command === 'help') {
      const topic = rest[0];
      if (topic === undefined || topic === '--help' || topic === '-h') process.stdout.write(HELP);
      else if (Object.hasOwn(COMMANDS, topic)) process.stdout.write(COMMANDS[topic]!.help);
      else throw new UsageError(`unknown command "${topic}".`);
      return EXIT.ok;
    }
    if (!Object.hasOwn(COMMANDS, command)) {
      // Options belong to a command and come after it (`embedkit --model … embed` reads --model as the
      // command): saying so beats calling an option an unknown command.
      if (command.startsWith('-')) {
        throw new UsageError(
          `"${command}" is not a command; the command comes first, then its options: embedkit <command> [options].`,
        );
      }
      const suggestion = closestName(command, Object.keys(COMMANDS));
      throw new UsageError(
        `unknown command "${command}"${suggestion === undefined ? '.' : `; did you mean "${suggestion}"?`}`,
      );
    }
    return await COMMANDS[command]!.run(rest);
  } catch (error) {
    // A replay's refusal reads as an API error 418; say what happened instead.
    process.stderr.write(`embedkit: error: ${replayMismatchReport() ?? describeError(error)}\n`);
    if (
      !(error instanceof CliError) &&
      environmentSwitch('EMBEDKIT_DEBUG') &&
      error instanceof Error &&
      error.stack
    ) {
      process.stderr.write(`${error.stack}\n`);
    }
    return error instanceof CliError ? error.exitCode : EXIT.failure;
  }
}

async function version(): Promise<string> {
  const { createRequire } = await import('node:module');
  const manifest = createRequire(import.meta.url)('../package.json') as { version: string };
  return manifest.version;
}
