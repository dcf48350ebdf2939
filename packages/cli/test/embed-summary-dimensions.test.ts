import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeServer, runCli, startFakeOpenAI } from './helpers.js';

const VOYAGE_KEY = 'pa-fake-cli-key-Lm5n8Qw2';

/** Value k of every packed vector the server answers: (k·37 + 1) mod 256. */
const packedBytes = (length: number) => Buffer.from(Array.from({ length }, (_, k) => (k * 37 + 1) % 256));

describe('embed --summary of a bit-packed vector gives its dimensions beside its values', () => {
  let server: FakeServer;
  const sent: Record<string, unknown>[] = [];
  beforeAll(async () => {
    // Voyage's /v1/embeddings answer: eight dimensions a byte for binary and ubinary.
    server = await startFakeOpenAI({
      intercept: ({ body }) => {
        sent.push(body);
        const dimensions = (body.output_dimension as number | undefined) ?? 1024;
        const packed = body.output_dtype === 'binary' || body.output_dtype === 'ubinary';
        return {
          status: 200,
          body: {
            object: 'list',
            data: [
              {
                object: 'embedding',
                index: 0,
                embedding: packedBytes(packed ? dimensions / 8 : dimensions).toString('base64'),
              },
            ],
            model: body.model,
            usage: { total_tokens: 3 },
          },
        };
      },
    });
  });
  afterAll(() => server.close());

  const summary = (outputType: string, ...extra: string[]) =>
    runCli(
      [
        'embed',
        'pets',
        '--summary',
        '--model',
        'voyage:voyage-3.5',
        '--base-url',
        server.baseURL,
        '--output-type',
        outputType,
        ...extra,
      ],
      { env: { VOYAGE_API_KEY: VOYAGE_KEY } },
    );

  it('a binary vector of 1024 dimensions is 128 values, and the line says both', async () => {
    sent.length = 0;
    const result = await summary('binary');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      'voyage:voyage-3.5 128 values (binary), 1024 dimensions: [1, 38, 75, 112, …]\n3 tokens\n',
    );
    expect(sent.map((body) => body.output_dtype)).toStrictEqual(['binary']);
  });

  it('a ubinary vector of the 256 dimensions asked for is 32 values', async () => {
    const result = await summary('ubinary', '--dimensions', '256');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      'voyage:voyage-3.5 32 values (ubinary), 256 dimensions: [1, 38, 75, 112, …]\n3 tokens\n',
    );
  });

  it('an int8 vector has as many dimensions as values, and the line gives only its values', async () => {
    const result = await summary('int8');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('voyage:voyage-3.5 1024 values (int8): [1, 38, 75, 112, …]\n3 tokens\n');
  });
});
