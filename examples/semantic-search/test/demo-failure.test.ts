import { expect, it, vi } from 'vitest';

// The query's `embed` fails after the documents' `embedMany` used the first recorded exchange, as a call
// that fails in a run would; the replay then holds an exchange nobody asked for.
vi.mock('@embedkit/core', async (importOriginal) => {
  const core = await importOriginal<typeof import('@embedkit/core')>();
  return {
    ...core,
    embed: async () => {
      throw new Error('the query could not be embedded');
    },
  };
});

const { runDemo } = await import('../src/demo.js');

// bug: the replay's "did not use every recorded exchange", thrown while closing, replaced the error
// that ended the run, so the reader saw a complaint about the recording instead of what went wrong.
it('a run that fails reports its own error, not that the recording was not used up', async () => {
  await expect(runDemo({})).rejects.toThrow('the query could not be embedded');
});
