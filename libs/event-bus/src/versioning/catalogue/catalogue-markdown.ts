import type { RegisteredContract } from '../../contracts/contract-registry';
import { payloadJsonSchema } from '../../validation/payload-validator';
import type { JsonSchema } from '../../validation/schema-keywords';
import { describeConstraints, describeSchema, unwrapOptional } from '../schema-describe';
import type { RegisteredUpcaster } from '../upcaster-registry';
import type { EventSubscription } from './event-subscription';

export interface CatalogueInput {
  title: string;
  /** Paragraphs under the title (how the page was made). */
  preamble?: string[];
  contracts: readonly RegisteredContract[];
  subscriptions: readonly EventSubscription[];
  upcasters: readonly RegisteredUpcaster[];
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (text: string): string => `\`${text}\``;

/**
 * The event catalogue as Markdown: per stream, per type, per version the payload's fields (type,
 * required, constraints), who publishes it and which consumer groups handle it. Deterministic.
 */
export function renderCatalogueMarkdown(input: CatalogueInput): string {
  const lines: string[] = [`# ${input.title}`, '', ...(input.preamble ?? []).flatMap((p) => [p, ''])];
  const byStream = new Map<string, Map<string, RegisteredContract[]>>();
  for (const contract of input.contracts) {
    const types =
      byStream.get(contract.meta.stream) ?? byStream.set(contract.meta.stream, new Map()).get(contract.meta.stream)!;
    types.set(
      contract.meta.type,
      [...(types.get(contract.meta.type) ?? []), contract].sort((a, b) => b.meta.version - a.meta.version),
    );
  }
  const streams = [...byStream.keys()].sort();
  const consumersOf = (type: string): string[] =>
    [...new Set(input.subscriptions.filter((s) => s.type === type).map((s) => s.group))].sort().map((group) => {
      const subs = input.subscriptions.filter((s) => s.type === type && s.group === group);
      const service = subs.find((s) => s.service)?.service;
      return `${code(group)}${service ? ` (${service})` : ''}: ${subs
        .map((s) => s.handler)
        .sort()
        .join(', ')}`;
    });

  lines.push('| stream | Redis key | event types |', '|---|---|---|');
  for (const stream of streams) {
    const types = [...byStream.get(stream)!.entries()].sort(([a], [b]) => a.localeCompare(b));
    lines.push(
      `| [${stream}](#stream-${stream}) | ${code(`<namespace>:{${stream}}`)} | ${types.map(([t, v]) => `${t} (v${v[0].meta.version})`).join(', ')} |`,
    );
  }
  lines.push('');

  for (const stream of streams) {
    lines.push(
      `## Stream ${code(stream)}`,
      '',
      `Redis key ${code(`<namespace>:{${stream}}`)}; dead letters ${code(`<namespace>:{${stream}}:dlq`)}.`,
      '',
    );
    for (const [type, versions] of [...byStream.get(stream)!.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const producers = [...new Set(versions.flatMap((c) => c.meta.producedBy ?? []))].sort();
      const consumers = consumersOf(type);
      lines.push(`### ${type}`, '');
      lines.push(`- Published by: ${producers.length ? producers.join(', ') : '(no producer declared)'}`);
      lines.push(consumers.length ? '- Consumed by:' : '- Consumed by: (no consumer group in this application)');
      for (const consumer of consumers) lines.push(`  - ${consumer}`);
      lines.push('', '| version | class | published by | reaches handlers |', '|---|---|---|---|');
      for (const c of versions) {
        const upcaster = input.upcasters.find((u) => u.type === type && u.from === c.meta.version);
        const reach =
          c === versions[0]
            ? 'as is (newest)'
            : upcaster
              ? `upcast to v${upcaster.to} by ${code(upcaster.name)}`
              : '**no upcaster: dead-lettered**';
        lines.push(`| v${c.meta.version} | ${code(c.cls.name)} | ${c.meta.producedBy?.join(', ') || '-'} | ${reach} |`);
      }
      lines.push('');
      versions.forEach((c, i) => lines.push(...versionSection(c, versions[i + 1])));
    }
  }
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

function versionSection(contract: RegisteredContract, previous?: RegisteredContract): string[] {
  const schema = payloadJsonSchema(contract.cls);
  const before = previous ? payloadJsonSchema(previous.cls) : undefined;
  const { type, version, subjectField } = contract.meta;
  const lines = [`#### ${type} v${version}`, ''];
  if (subjectField) lines.push(`Subject (ordering key): ${code(subjectField)}.`, '');
  if (typeof schema.$comment === 'string') lines.push(`> ${schema.$comment}`, '');
  lines.push(...fieldTable(schema, before), '');
  const definitions = (schema.definitions ?? {}) as Record<string, JsonSchema>;
  const previousDefinitions = (before?.definitions ?? {}) as Record<string, JsonSchema>;
  for (const name of Object.keys(definitions)
    .filter((n) => !n.endsWith('.nested'))
    .sort()) {
    lines.push(`${code(name)}:`, '', ...fieldTable(definitions[name], previousDefinitions[name]), '');
  }
  return lines;
}

function fieldTable(schema: JsonSchema, previous?: JsonSchema): string[] {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  const known = previous?.properties as Record<string, JsonSchema> | undefined;
  const rows = ['| field | type | required | constraints |', '|---|---|---|---|'];
  for (const [name, property] of Object.entries(properties)) {
    const optional = required.has(name) ? 'yes' : unwrapOptional(property) !== property ? 'no (null or absent)' : 'no';
    const isNew = known && !(name in known) ? ' (new in this version)' : '';
    const notes = [
      ...describeConstraints(property),
      ...(typeof property.description === 'string' ? [property.description] : []),
    ];
    rows.push(
      `| ${code(name)}${isNew} | ${cell(describeSchema(property))} | ${optional} | ${cell(notes.join('; '))} |`,
    );
  }
  return rows;
}
