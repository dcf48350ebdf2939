// The loopback server: speaks the OpenAI, Voyage and Gemini embedding wires on 127.0.0.1 with fixed,
// deterministic vectors. Response bodies are assembled from precomputed per-vector fragments, so the
// server costs little CPU. Optional latency, and optional rate limits (requests/min and tokens/min per
// API key) answered with 429 + Retry-After the way each API does. Gemini answers are indented, as the
// API writes them, unless the call asks for compact JSON (`prettyPrint=false`).
//
// Run as a child process (its CPU is not the client's): `fork('server.mjs')`, options as JSON in
// BENCH_SERVER_OPTIONS; it sends `{ type: 'ready', port }` and answers `{ type: 'stats' }` messages.
// Base URLs: http://127.0.0.1:PORT/openai/v1, /voyage/v1, /gemini/v1beta or /gemini/v1 (plain /v1 is
// OpenAI, or Voyage when the body carries a Voyage-only field).

import { createServer } from 'node:http';
import {
  GEMINI_INDENTED,
  indentedVectorJson,
  inputNumber,
  poolVector,
  serverTokens,
  VECTOR_POOL,
  vectorId,
  vectorJson,
} from './data.mjs';

const options = JSON.parse(process.env.BENCH_SERVER_OPTIONS ?? '{}');
let latencyMs = options.latencyMs ?? 0;
let rateLimit = options.rateLimit; // { requestsPerMinute, tokensPerMinute } per key, or undefined

// ---- precomputed fragments -------------------------------------------------------------------------

const pools = new Map(); // dimensions -> { base64: Buffer[], json: Buffer[] }

/** Fragments of every pool vector at `dimensions`: its base64 (little-endian float32) and JSON array. */
function pool(dimensions) {
  let entry = pools.get(dimensions);
  if (entry === undefined) {
    const base64 = new Array(VECTOR_POOL);
    const json = new Array(VECTOR_POOL);
    for (let id = 0; id < VECTOR_POOL; id++) {
      const vector = poolVector(id, dimensions);
      base64[id] = Buffer.from(
        `"${Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64')}"`,
      );
      json[id] = Buffer.from(vectorJson(vector));
    }
    entry = { base64, json };
    pools.set(dimensions, entry);
  }
  return entry;
}

const prettyPools = new Map(); // `${dimensions} ${depth}` -> Buffer[]

/**
 * A pool vector's values as the Gemini API writes them by default (`prettyPrint` true): one value a
 * line, indented two spaces a level, the array at `depth` (2 in `embedding.values`, 3 in
 * `embeddings[].values`).
 */
function prettyFragment(id, dimensions, depth) {
  const key = `${dimensions} ${depth}`;
  let entry = prettyPools.get(key);
  if (entry === undefined) {
    entry = new Array(VECTOR_POOL);
    prettyPools.set(key, entry);
  }
  if (entry[id] === undefined) {
    entry[id] = Buffer.from(indentedVectorJson(poolVector(id, dimensions), depth));
  }
  return entry[id];
}

/** A Voyage integer/binary dtype of a pool vector, computed on demand (not part of the benchmark). */
function quantized(id, dimensions, dtype) {
  const vector = poolVector(id, dimensions);
  if (dtype === 'int8' || dtype === 'uint8') {
    const out = dtype === 'int8' ? new Int8Array(dimensions) : new Uint8Array(dimensions);
    for (let index = 0; index < dimensions; index++) {
      const scaled = Math.round(vector[index] * 127 * 8);
      out[index] =
        dtype === 'int8' ? Math.max(-128, Math.min(127, scaled)) : Math.max(0, Math.min(255, scaled + 128));
    }
    return out;
  }
  const bytes = dtype === 'binary' ? new Int8Array(dimensions / 8) : new Uint8Array(dimensions / 8);
  for (let index = 0; index < dimensions; index++) {
    if (vector[index] > 0) bytes[index >> 3] |= 0x80 >> (index & 7);
  }
  if (dtype === 'binary') for (let index = 0; index < bytes.length; index++) bytes[index] -= 128;
  return bytes;
}

const openAIPrefixes = [];
function openAIPrefix(index) {
  openAIPrefixes[index] ??= Buffer.from(
    `${index === 0 ? '' : ','}{"object":"embedding","index":${index},"embedding":`,
  );
  return openAIPrefixes[index];
}
const voyagePrefixes = [];
function voyageSuffix(index) {
  voyagePrefixes[index] ??= Buffer.from(`,"index":${index}}`);
  return voyagePrefixes[index];
}
const CLOSE = Buffer.from('}');
const COMMA = Buffer.from(',');
const VOYAGE_ITEM = Buffer.from('{"object":"embedding","embedding":');
const GEMINI_ITEM = Buffer.from('{"values":');
const INDENTED = Object.fromEntries(
  Object.entries(GEMINI_INDENTED).map(([part, text]) => [part, Buffer.from(text)]),
);

// ---- rate limits ----------------------------------------------------------------------------------

/** Per key: two token buckets that start full and refill continuously at limit / 60,000 per ms. */
class Limiter {
  constructor(limits, now) {
    this.limits = limits;
    this.requests = limits.requestsPerMinute;
    this.tokens = limits.tokensPerMinute;
    this.updatedAt = now;
  }

  refill(now) {
    const elapsed = now - this.updatedAt;
    this.updatedAt = now;
    const { requestsPerMinute, tokensPerMinute } = this.limits;
    if (requestsPerMinute !== undefined)
      this.requests = Math.min(requestsPerMinute, this.requests + (elapsed * requestsPerMinute) / 60_000);
    if (tokensPerMinute !== undefined)
      this.tokens = Math.min(tokensPerMinute, this.tokens + (elapsed * tokensPerMinute) / 60_000);
  }

  /** Takes one request and `tokens` tokens, or returns how long to wait and which limit binds. */
  take(tokens, now) {
    this.refill(now);
    const { requestsPerMinute, tokensPerMinute } = this.limits;
    let waitMs = 0;
    let kind = 'requests';
    if (requestsPerMinute !== undefined && this.requests < 1)
      waitMs = ((1 - this.requests) * 60_000) / requestsPerMinute;
    if (tokensPerMinute !== undefined && this.tokens < tokens) {
      const tokenWait = ((tokens - this.tokens) * 60_000) / tokensPerMinute;
      if (tokenWait > waitMs) {
        waitMs = tokenWait;
        kind = 'tokens';
      }
    }
    if (waitMs > 0) return { waitMs, kind };
    if (requestsPerMinute !== undefined) this.requests -= 1;
    if (tokensPerMinute !== undefined) this.tokens -= tokens;
    return undefined;
  }

  headers() {
    const out = {};
    const { requestsPerMinute, tokensPerMinute } = this.limits;
    if (requestsPerMinute !== undefined) {
      out['x-ratelimit-limit-requests'] = String(requestsPerMinute);
      out['x-ratelimit-remaining-requests'] = String(Math.max(0, Math.floor(this.requests)));
      out['x-ratelimit-reset-requests'] =
        `${Math.ceil(((requestsPerMinute - this.requests) * 60_000) / requestsPerMinute)}ms`;
    }
    if (tokensPerMinute !== undefined) {
      out['x-ratelimit-limit-tokens'] = String(tokensPerMinute);
      out['x-ratelimit-remaining-tokens'] = String(Math.max(0, Math.floor(this.tokens)));
      out['x-ratelimit-reset-tokens'] =
        `${Math.ceil(((tokensPerMinute - this.tokens) * 60_000) / tokensPerMinute)}ms`;
    }
    return out;
  }
}

const limiters = new Map(); // `${wire} ${key}` -> Limiter
const stats = new Map(); // `${wire} ${key}` -> counters

function statsFor(id, now) {
  let entry = stats.get(id);
  if (entry === undefined) {
    entry = {
      requests: 0,
      ok: 0,
      rateLimited: 0,
      errors: 0,
      inputs: 0,
      tokens: 0,
      firstRequestAt: now,
      lastOkAt: now,
      /** When the first 50 refusals happened, in ms after the key's first request. */
      rateLimitedAtMs: [],
    };
    stats.set(id, entry);
  }
  return entry;
}

// ---- the wires ------------------------------------------------------------------------------------

function openAIDefaultDimensions(model) {
  if (/3-large/.test(model)) return 3072;
  return 1536;
}

function texts(input) {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.every((item) => typeof item === 'string')) return input;
  return undefined;
}

/** Builds the success body of one wire for `inputs`, from fragments. */
function successBody(wire, request, inputs, model, tokens) {
  const parts = [];
  let total = 0;
  const push = (buffer) => {
    parts.push(buffer);
    total += buffer.length;
  };
  if (wire === 'openai') {
    const dimensions = request.dimensions ?? openAIDefaultDimensions(model);
    const fragments = request.encoding_format === 'base64' ? pool(dimensions).base64 : pool(dimensions).json;
    push(Buffer.from('{"object":"list","data":['));
    for (let index = 0; index < inputs.length; index++) {
      push(openAIPrefix(index));
      push(fragments[vectorId(inputNumber(inputs[index]))]);
      push(CLOSE);
    }
    push(
      Buffer.from(
        `],"model":${JSON.stringify(model)},"usage":{"prompt_tokens":${tokens},"total_tokens":${tokens}}}`,
      ),
    );
  } else if (wire === 'voyage') {
    const dimensions = request.output_dimension ?? 1024;
    const dtype = request.output_dtype ?? 'float';
    const base64 = request.encoding_format === 'base64';
    push(Buffer.from('{"object":"list","data":['));
    for (let index = 0; index < inputs.length; index++) {
      if (index > 0) push(COMMA);
      push(VOYAGE_ITEM);
      const id = vectorId(inputNumber(inputs[index]));
      if (dtype === 'float') push(base64 ? pool(dimensions).base64[id] : pool(dimensions).json[id]);
      else {
        const bytes = quantized(id, dimensions, dtype);
        push(
          Buffer.from(
            base64 ? `"${Buffer.from(bytes.buffer).toString('base64')}"` : JSON.stringify(Array.from(bytes)),
          ),
        );
      }
      push(voyageSuffix(index));
    }
    push(Buffer.from(`],"model":${JSON.stringify(model)},"usage":{"total_tokens":${tokens}}}`));
  } else if (request.pretty) {
    // As the API answers by default: indented, one value a line.
    const dimensions = request.outputDimensionality ?? 3072;
    if (request.single) {
      push(INDENTED.singleOpen);
      push(prettyFragment(vectorId(inputNumber(inputs[0])), dimensions, 2));
      push(INDENTED.singleClose);
    } else {
      push(INDENTED.batchOpen);
      for (let index = 0; index < inputs.length; index++) {
        if (index > 0) push(INDENTED.itemSeparator);
        push(INDENTED.itemOpen);
        push(prettyFragment(vectorId(inputNumber(inputs[index])), dimensions, 3));
        push(INDENTED.itemClose);
      }
      push(INDENTED.batchClose);
    }
  } else {
    // Asked for with `prettyPrint=false`: compact.
    const fragments = pool(request.outputDimensionality ?? 3072).json;
    if (request.single) {
      push(Buffer.from('{"embedding":'));
      push(GEMINI_ITEM);
      push(fragments[vectorId(inputNumber(inputs[0]))]);
      push(Buffer.from('}}'));
    } else {
      push(Buffer.from('{"embeddings":['));
      for (let index = 0; index < inputs.length; index++) {
        if (index > 0) push(COMMA);
        push(GEMINI_ITEM);
        push(fragments[vectorId(inputNumber(inputs[index]))]);
        push(CLOSE);
      }
      push(Buffer.from(']}'));
    }
  }
  return Buffer.concat(parts, total);
}

function errorBody(wire, status, message, waitMs) {
  if (wire === 'gemini') {
    const error = {
      code: status,
      message,
      status: status === 429 ? 'RESOURCE_EXHAUSTED' : status === 404 ? 'NOT_FOUND' : 'INVALID_ARGUMENT',
    };
    if (waitMs !== undefined)
      error.details = [
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${Math.ceil(waitMs / 1000)}s` },
      ];
    return JSON.stringify({ error });
  }
  if (wire === 'voyage') return JSON.stringify({ detail: message });
  return JSON.stringify({
    error: {
      message,
      type: status === 429 ? 'tokens' : 'invalid_request_error',
      param: null,
      code: status === 429 ? 'rate_limit_exceeded' : null,
    },
  });
}

/** Reads the wire, model and parsed request from the URL and body; undefined for an unknown route. */
function route(url, body) {
  const path = url.split('?')[0];
  let match = /^(?:\/(openai|voyage))?\/v1\/embeddings$/.exec(path);
  if (match) {
    let wire = match[1] ?? 'openai';
    if (
      match[1] === undefined &&
      ('output_dimension' in body || 'output_dtype' in body || 'input_type' in body)
    )
      wire = 'voyage';
    return { wire, model: String(body.model ?? ''), inputs: texts(body.input), request: body };
  }
  // @google/genai 3 calls the v1 API by default, earlier majors and embedkit v1beta: the same wire.
  match = /^(?:\/gemini)?\/v1(?:beta)?\/models\/([^/:]+):(batchEmbedContents|embedContent)$/.exec(path);
  if (match) {
    const model = match[1];
    // The `prettyPrint` system parameter (also spelt `$prettyPrint`): indented answers unless it is false.
    const query = new URLSearchParams(url.slice(path.length + 1));
    const pretty = (query.get('prettyPrint') ?? query.get('$prettyPrint')) !== 'false';
    if (match[2] === 'embedContent') {
      const text = body.content?.parts?.map((part) => part.text ?? '').join('') ?? '';
      return {
        wire: 'gemini',
        model,
        inputs: [text],
        request: { single: true, pretty, outputDimensionality: body.outputDimensionality },
      };
    }
    const requests = Array.isArray(body.requests) ? body.requests : [];
    return {
      wire: 'gemini',
      model,
      inputs: requests.map((item) => item.content?.parts?.map((part) => part.text ?? '').join('') ?? ''),
      request: { pretty, outputDimensionality: requests[0]?.outputDimensionality },
    };
  }
  return undefined;
}

function apiKey(request) {
  const authorization = request.headers.authorization;
  if (authorization?.startsWith('Bearer ')) return authorization.slice(7);
  const google = request.headers['x-goog-api-key'];
  if (typeof google === 'string') return google;
  const query = /[?&]key=([^&]*)/.exec(request.url);
  return query ? decodeURIComponent(query[1]) : 'anonymous';
}

function send(response, status, headers, body) {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const finish = () => {
    response.writeHead(status, {
      'content-type': 'application/json',
      'content-length': bytes.length,
      ...headers,
    });
    response.end(bytes);
  };
  if (latencyMs > 0) setTimeout(finish, latencyMs);
  else finish();
}

function handle(request, response, raw) {
  const now = performance.now();
  let body;
  try {
    body = JSON.parse(raw);
  } catch {
    send(response, 400, {}, errorBody('openai', 400, 'We could not parse the JSON body of your request.'));
    return;
  }
  const routed = route(request.url, body ?? {});
  if (routed === undefined) {
    send(response, 404, {}, JSON.stringify({ error: { message: `No route for ${request.url}` } }));
    return;
  }
  const { wire, model, inputs } = routed;
  const key = apiKey(request);
  const id = `${wire} ${key}`;
  const counters = statsFor(id, now);
  counters.requests++;
  if (inputs === undefined || inputs.length === 0 || inputs.some((text) => text.length === 0)) {
    counters.errors++;
    send(
      response,
      400,
      {},
      errorBody(wire, 400, 'input must be a non-empty string or array of non-empty strings'),
    );
    return;
  }
  let tokens = 0;
  for (const text of inputs) tokens += serverTokens(text);
  let headers = {};
  if (rateLimit !== undefined) {
    let limiter = limiters.get(id);
    if (limiter === undefined) {
      limiter = new Limiter(rateLimit, now);
      limiters.set(id, limiter);
    }
    const refused = limiter.take(tokens, now);
    // OpenAI states its limits in x-ratelimit-* headers; Voyage and Gemini document none. A key named
    // sk-noheaders-… plays an API that answers only 429 with Retry-After.
    if (wire === 'openai' && !key.startsWith('sk-noheaders')) headers = limiter.headers();
    if (refused !== undefined) {
      counters.rateLimited++;
      if (counters.rateLimitedAtMs.length < 50)
        counters.rateLimitedAtMs.push(Math.round(now - counters.firstRequestAt));
      const limitName = refused.kind === 'tokens' ? 'tokens per min (TPM)' : 'requests per min (RPM)';
      const limit = refused.kind === 'tokens' ? rateLimit.tokensPerMinute : rateLimit.requestsPerMinute;
      const message = `Rate limit reached for ${model} on ${limitName}: Limit ${limit}, Requested ${refused.kind === 'tokens' ? tokens : 1}. Please try again in ${Math.ceil(refused.waitMs)}ms.`;
      headers['retry-after'] = String(Math.max(1, Math.ceil(refused.waitMs / 1000)));
      if (wire === 'openai') headers['retry-after-ms'] = String(Math.ceil(refused.waitMs));
      send(response, 429, headers, errorBody(wire, 429, message, refused.waitMs));
      return;
    }
  }
  const out = successBody(wire, routed.request, inputs, model, tokens);
  counters.ok++;
  counters.inputs += inputs.length;
  counters.tokens += tokens;
  counters.lastOkAt = performance.now();
  send(response, 200, headers, out);
}

const server = createServer(
  { keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 0 },
  (request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => handle(request, response, Buffer.concat(chunks).toString('utf8')));
  },
);
server.keepAliveTimeout = 65_000;

for (const dimensions of options.prepare ?? []) pool(dimensions);

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  if (process.send) process.send({ type: 'ready', port });
  else console.log(`loopback embeddings server on http://127.0.0.1:${port}`);
});

process.on('message', (message) => {
  if (message?.type === 'stats') {
    const out = {};
    for (const [id, counters] of stats) out[id] = { ...counters };
    process.send({ type: 'stats', stats: out, cpu: process.cpuUsage() });
  } else if (message?.type === 'configure') {
    if ('latencyMs' in message) latencyMs = message.latencyMs;
    if ('rateLimit' in message) {
      rateLimit = message.rateLimit;
      limiters.clear();
    }
    if (message.resetStats) stats.clear();
    for (const dimensions of message.prepare ?? []) pool(dimensions);
    process.send({ type: 'configured' });
  } else if (message?.type === 'stop') {
    server.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
