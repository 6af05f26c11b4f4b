import type { RegisteredContract } from '../../contracts/contract-registry';
import { CLOUDEVENTS_SPEC_VERSION, JSON_CONTENT_TYPE } from '../../event-bus.constants';
import { payloadJsonSchema } from '../../validation/payload-validator';
import type { JsonSchema } from '../../validation/schema-keywords';
import type { RegisteredUpcaster } from '../upcaster-registry';
import type { EventSubscription } from './event-subscription';

type Ref = { $ref: string };
const DEFINITIONS = '#/definitions/';

/** The parts of an AsyncAPI 3.0 document this catalogue writes. */
export interface AsyncApiDocument {
  asyncapi: '3.0.0';
  info: { title: string; version: string; description?: string };
  defaultContentType: string;
  channels: Record<string, { address: string; title: string; description: string; messages: Record<string, Ref> }>;
  operations: Record<
    string,
    {
      action: 'send' | 'receive';
      channel: Ref;
      title: string;
      summary: string;
      description?: string;
      messages: Ref[];
    } & Record<`x-${string}`, unknown>
  >;
  components: { messages: Record<string, JsonSchema>; schemas: Record<string, JsonSchema> };
}

export interface AsyncApiInput {
  title: string;
  /** @default '1.0.0' */
  version?: string;
  description?: string;
  /** Key namespace, to show the real Redis keys. @default '<namespace>' */
  namespace?: string;
  contracts: readonly RegisteredContract[];
  subscriptions: readonly EventSubscription[];
  upcasters: readonly RegisteredUpcaster[];
}

/** `OrderPlaced.v2`: the message id of one version of a type. */
export const messageId = (type: string, version: number): string => `${type}.v${version}`;

/**
 * An AsyncAPI 3.0 document of the event platform: a channel per stream (address: the logical
 * stream name; the Redis keys in its description), a message per type and version (payload: the
 * version's JSON Schema, envelope attributes as headers), a `send` operation per producing service
 * and type (`producedBy` of the contracts) and a `receive` operation per consumer group and type
 * (the bindings). Deterministic: the same registry and bindings give the same document.
 */
export function buildAsyncApi(input: AsyncApiInput): AsyncApiDocument {
  const ns = input.namespace ?? '<namespace>';
  const doc: AsyncApiDocument = {
    asyncapi: '3.0.0',
    info: {
      title: input.title,
      version: input.version ?? '1.0.0',
      ...(input.description ? { description: input.description } : {}),
    },
    defaultContentType: JSON_CONTENT_TYPE,
    channels: {},
    operations: {},
    components: { messages: {}, schemas: {} },
  };
  const contracts = [...input.contracts].sort(
    (a, b) =>
      a.meta.stream.localeCompare(b.meta.stream) ||
      a.meta.type.localeCompare(b.meta.type) ||
      a.meta.version - b.meta.version,
  );
  const newestOf = new Map<string, number>();
  for (const { meta } of contracts) newestOf.set(meta.type, Math.max(newestOf.get(meta.type) ?? 0, meta.version));

  for (const contract of contracts) {
    const { type, version, stream } = contract.meta;
    const id = messageId(type, version);
    const channel = (doc.channels[stream] ??= {
      address: stream,
      title: stream,
      description:
        `Redis stream \`${ns}:{${stream}}\`${input.namespace ? ` (key pattern \`<namespace>:{${stream}}\`)` : ''}, one CloudEvents 1.0 event per entry as flat fields, ` +
        `\`data\` holding the JSON payload. Dead letters: \`${ns}:{${stream}}:dlq\`; a group's redriven ones: \`${ns}:{${stream}}:redrive:<group>\`.`,
      messages: {},
    });
    channel.messages[id] = { $ref: `#/components/messages/${id}` };
    doc.components.messages[id] = message(contract, newestOf.get(type)!, input.upcasters, doc.components.schemas);
  }

  const byProducer = new Map<string, RegisteredContract[]>();
  for (const contract of contracts) {
    for (const service of contract.meta.producedBy ?? []) {
      const key = `${service}.send.${contract.meta.type}`;
      byProducer.set(key, [...(byProducer.get(key) ?? []), contract]);
    }
  }
  for (const [key, produced] of [...byProducer].sort(([a], [b]) => a.localeCompare(b))) {
    const { type, stream } = produced[0].meta;
    const service = key.slice(0, key.indexOf('.send.'));
    doc.operations[key] = {
      action: 'send',
      channel: { $ref: `#/channels/${stream}` },
      title: `${service} publishes ${type}`,
      summary: `${service} appends ${type} (${produced.map((c) => `v${c.meta.version}`).join(', ')}) to the ${stream} stream`,
      messages: produced.map((c) => ({ $ref: `#/channels/${stream}/messages/${messageId(type, c.meta.version)}` })),
      'x-service': service,
    };
  }

  const byGroup = new Map<string, EventSubscription[]>();
  for (const s of input.subscriptions)
    byGroup.set(`${s.group}.receive.${s.type}`, [...(byGroup.get(`${s.group}.receive.${s.type}`) ?? []), s]);
  for (const [key, subs] of [...byGroup].sort(([a], [b]) => a.localeCompare(b))) {
    const { group, service, stream, type } = subs[0];
    const versions = contracts.filter((c) => c.meta.type === type);
    if (!versions.length) continue;
    const newest = newestOf.get(type)!;
    doc.operations[key] = {
      action: 'receive',
      channel: { $ref: `#/channels/${stream}` },
      title: `${group} receives ${type}`,
      summary: `consumer group ${group}${service ? ` (${service})` : ''}: ${subs
        .map((s) => s.handler)
        .sort()
        .join(', ')}`,
      ...(versions.length > 1
        ? {
            description: `Reads every version; v${versions
              .slice(0, -1)
              .map((c) => c.meta.version)
              .join(', v')} entries are upcast to v${newest} before its handlers run.`,
          }
        : {}),
      messages: versions.map((c) => ({ $ref: `#/channels/${stream}/messages/${messageId(type, c.meta.version)}` })),
      'x-consumer-group': group,
      ...(service ? { 'x-service': service } : {}),
    };
  }
  return doc;
}

function message(
  contract: RegisteredContract,
  newest: number,
  upcasters: readonly RegisteredUpcaster[],
  schemas: Record<string, JsonSchema>,
): JsonSchema {
  const { type, version, subjectField } = contract.meta;
  const id = messageId(type, version);
  const upcaster = upcasters.find((u) => u.type === type && u.from === version);
  const notes = [
    version === newest
      ? 'The newest version: what handlers receive.'
      : `An older version: consumers upcast it to v${newest} before handlers see it.`,
    upcaster ? `Upcast to v${upcaster.to} by ${upcaster.name}.` : '',
  ].filter(Boolean);
  return {
    name: type,
    title: `${type} v${version}`,
    summary: `${type}, payload schema version ${version}`,
    description: notes.join(' '),
    contentType: JSON_CONTENT_TYPE,
    headers: envelopeSchema(type, version, subjectField),
    payload: payloadSchema(contract, id, schemas),
    correlationId: {
      description: 'Shared by every event of one business flow',
      location: '$message.header#/correlationid',
    },
    'x-event-type': type,
    'x-event-version': version,
    'x-event-class': contract.cls.name,
  };
}

/** The stream entry's CloudEvents attributes (docs/contract.md section 1) for one type and version. */
function envelopeSchema(type: string, version: number, subjectField?: string): JsonSchema {
  const text = (description: string): JsonSchema => ({ type: 'string', description });
  return {
    type: 'object',
    properties: {
      specversion: { type: 'string', const: CLOUDEVENTS_SPEC_VERSION },
      id: text('unique event id chosen by the publisher; the dedupe key'),
      type: { type: 'string', const: type },
      version: {
        type: 'string',
        const: String(version),
        description: version === 1 ? 'absent means 1' : 'schema version of data',
      },
      source: text('the publishing service'),
      time: { type: 'string', format: 'date-time', description: 'RFC 3339 UTC time of the fact' },
      datacontenttype: { type: 'string', const: JSON_CONTENT_TYPE },
      data: text('the payload, as JSON object text'),
      subject: text(subjectField ? `the ordering key: the payload's ${subjectField}` : 'the ordering key'),
      correlationid: text('id shared by every event of one business flow'),
      causationid: text('id of the event that caused this one'),
      traceparent: text('W3C trace context'),
      tracestate: text('W3C trace context'),
    },
    required: [
      'specversion',
      'id',
      'type',
      ...(version === 1 ? [] : ['version']),
      'source',
      'time',
      'datacontenttype',
      'data',
    ],
  };
}

/** The payload schema, its definitions moved to components.schemas (`OrderPlaced.v2.OrderItem`) so `$ref`s resolve in the document. */
function payloadSchema(contract: RegisteredContract, id: string, schemas: Record<string, JsonSchema>): JsonSchema {
  const { $schema: _schema, definitions, ...payload } = payloadJsonSchema(contract.cls);
  // NOTE: component keys allow letters, digits, '.', '-' and '_' only.
  const component = (name: string): string => `${id}.${name}`.replace(/[^\w.-]/g, '_');
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!node || typeof node !== 'object') return node;
    return Object.fromEntries(
      Object.entries(node).map(([k, v]) => [
        k,
        k === '$ref' && typeof v === 'string' && v.startsWith(DEFINITIONS)
          ? `#/components/schemas/${component(v.slice(DEFINITIONS.length))}`
          : rewrite(v),
      ]),
    );
  };
  for (const [name, schema] of Object.entries((definitions ?? {}) as Record<string, JsonSchema>))
    schemas[component(name)] = rewrite(schema) as JsonSchema;
  return rewrite(payload) as JsonSchema;
}
