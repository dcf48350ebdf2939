/**
 * The fields of the suite's options objects and wire profiles. Optional fields switch checks on, so a
 * misspelt or misplaced one (`maxTokensPerinput`, `cassette`, a wire field on the options) would make the
 * suite run fewer checks than the provider declared and still pass. Every describe function refuses
 * them by these records when it is called, before any test runs.
 */
import { refuseUnknownSettings, type SettingNames } from '@embedkit/core/provider';
import type {
  DescribeEmbeddingProviderOptions,
  ErrorSignals,
  OptionExample,
  VectorSettingsWire,
  WaitForms,
  WireBasics,
  WireProfile,
} from '../types.js';

/** The fields of one object, and the objects some of them hold, whose own fields are checked the same way. */
export interface FieldShape {
  names: Readonly<Record<string, true>>;
  /** Fields holding an object, or a list of objects, checked by their own shape. */
  inner?: Readonly<Record<string, FieldShape>>;
  /** The field holds a list of such objects (only changes how a misplaced field is told where it goes). */
  entries?: boolean;
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Refuses the first field of `value`, or of an object it holds, that its shape lacks: an
 * `InvalidArgumentError` "`<owner> has no option <name>`" at the top, "`<owner> wire.signals has no field
 * <name>`" below it, naming the field meant (a typo), where a misplaced field belongs (the object above
 * or below it, or `instead`), or every field the object takes.
 */
export function refuseUnknownFields(
  value: unknown,
  shape: FieldShape,
  owner: string,
  instead: Readonly<Record<string, string>> = {},
): void {
  if (isObject(value)) visit(value, shape, owner, '', undefined, instead);
}

function visit(
  value: object,
  shape: FieldShape,
  owner: string,
  path: string,
  parent: { shape: FieldShape; path: string } | undefined,
  extra: Readonly<Record<string, string>>,
): void {
  const at = (field: string) => (path === '' ? field : `${path}.${field}`);
  const instead: Record<string, string> = { ...extra };
  const place = (names: Readonly<Record<string, true>>, clause: string) => {
    for (const name of Object.keys(names))
      if (!Object.hasOwn(shape.names, name) && !Object.hasOwn(instead, name)) instead[name] = clause;
  };
  if (parent !== undefined)
    place(
      parent.shape.names,
      parent.path === '' ? `it is an option of ${owner}` : `it is a field of ${parent.path}`,
    );
  for (const [field, inner] of Object.entries(shape.inner ?? {}))
    place(inner.names, `it is a field of ${inner.entries === true ? 'each entry of ' : ''}${at(field)}`);
  refuseUnknownSettings(value, shape.names, path === '' ? owner : `${owner} ${path}`, {
    noun: path === '' ? 'option' : 'field',
    instead,
  });
  for (const [field, inner] of Object.entries(shape.inner ?? {})) {
    const held: unknown = (value as Record<string, unknown>)[field];
    const items = Array.isArray(held)
      ? held.map((item, index) => [`${at(field)}[${index}]`, item] as const)
      : [[at(field), held] as const];
    for (const [where, item] of items)
      if (isObject(item)) visit(item, inner, owner, where, { shape, path }, {});
  }
}

const ERROR_SIGNALS: SettingNames<ErrorSignals> = { quotaExhausted: true, batchTooLarge: true };
const WAIT_FORMS: SettingNames<WaitForms> = { headers: true, structuredBody: true, messageBody: true };
const OPTION_EXAMPLE: SettingNames<OptionExample> = {
  name: true,
  options: true,
  onWire: true,
  expected: true,
  vectors: true,
};

type Titles = NonNullable<WireProfile['titles']>;
type VectorLengths = NonNullable<WireProfile['vectorLengths']>;
type LengthRange = Exclude<NonNullable<VectorLengths['allowed']>, readonly number[]>;
type EncodingSwap = NonNullable<WireProfile['encodingSwap']>;

const TITLES: SettingNames<Titles> = { inputType: true };
const VECTOR_LENGTHS: SettingNames<VectorLengths> = { default: true, allowed: true };
const LENGTH_RANGE: SettingNames<LengthRange> = { min: true, max: true };
const ENCODING_SWAP: SettingNames<EncodingSwap> = { field: true, reencode: true };

/** What every wire says: errors, auth, usage, waits, signals, the request id header. */
export const WIRE_BASICS: SettingNames<WireBasics> = {
  errorBody: true,
  reportsUsage: true,
  authHeader: true,
  waits: true,
  signals: true,
  requestIdHeader: true,
};

/** The readers of a request's vector settings (embeddings and contextualized wires). */
export const VECTOR_SETTINGS_WIRE: SettingNames<VectorSettingsWire> = {
  dimensionsOf: true,
  inputTypeOf: true,
  outputTypeOf: true,
  encodingOf: true,
  truncateOf: true,
};

const WIRE_PROFILE: SettingNames<WireProfile> = {
  ...WIRE_BASICS,
  ...VECTOR_SETTINGS_WIRE,
  endpoint: true,
  inputsOf: true,
  itemsOf: true,
  successBody: true,
  indexedAnswers: true,
  maxInputsPerRequest: true,
  maxTokensPerRequest: true,
  maxTokensPerInput: true,
  modelOf: true,
  vectorLengths: true,
  unknownFields: true,
  titles: true,
  options: true,
  encodingSwap: true,
};

/** The options every group's describe function takes. */
export const GROUP_OPTIONS: SettingNames<
  Pick<
    DescribeEmbeddingProviderOptions,
    'name' | 'baseURL' | 'modelId' | 'wire' | 'cassettes' | 'expectedFailures'
  >
> = { name: true, baseURL: true, modelId: true, wire: true, cassettes: true, expectedFailures: true };

const DESCRIBE_EMBEDDING_PROVIDER_OPTIONS: SettingNames<DescribeEmbeddingProviderOptions> = {
  ...GROUP_OPTIONS,
  createModel: true,
  additionalTests: true,
  rerunWithTinyBatches: true,
  recordApiKeyEnvironmentVariable: true,
};

/** `signals` and `waits`, the objects every wire may hold. */
export const WIRE_BASICS_INNER = {
  signals: { names: ERROR_SIGNALS },
  waits: { names: WAIT_FORMS },
} as const satisfies Record<string, FieldShape>;

/** A list of option examples (`options`). */
export const OPTION_EXAMPLES: FieldShape = { names: OPTION_EXAMPLE, entries: true };
/** `titles`. */
export const TITLES_SHAPE: FieldShape = { names: TITLES };
/** `vectorLengths`, its `allowed` range included. */
export const VECTOR_LENGTHS_SHAPE: FieldShape = {
  names: VECTOR_LENGTHS,
  inner: { allowed: { names: LENGTH_RANGE } },
};

/** The embeddings wire profile. */
export const WIRE_PROFILE_SHAPE: FieldShape = {
  names: WIRE_PROFILE,
  inner: {
    ...WIRE_BASICS_INNER,
    options: OPTION_EXAMPLES,
    titles: TITLES_SHAPE,
    vectorLengths: VECTOR_LENGTHS_SHAPE,
    encodingSwap: { names: ENCODING_SWAP },
  },
};

/** `describeEmbeddingProvider`'s options, its wire included. */
export const EMBEDDING_PROVIDER_SHAPE: FieldShape = {
  names: DESCRIBE_EMBEDDING_PROVIDER_OPTIONS,
  inner: { wire: WIRE_PROFILE_SHAPE },
};
