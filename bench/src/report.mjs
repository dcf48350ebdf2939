// Formatting: console tables, the Markdown report (sections replaced in place, so the quick part and
// the peer part can each refresh their own) and a hand-written SVG bar chart.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export function formatNumber(value, digits = 1) {
  if (value === undefined || value === null || Number.isNaN(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** The median (the mean of the middle two for an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export const megabytes = (bytes) => formatNumber(bytes / 1024 / 1024, 0);
export const kilobytes = (bytes) => formatNumber(bytes / 1024, 2);

/** A plain-text table with right-aligned numeric columns. */
export function textTable(headers, rows) {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => String(row[column]).length)),
  );
  const line = (cells) =>
    cells
      .map((cell, column) =>
        column === 0 ? String(cell).padEnd(widths[column]) : String(cell).padStart(widths[column]),
      )
      .join('  ');
  return [line(headers), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

export function markdownTable(headers, rows) {
  const escapeCell = (cell) => String(cell).replaceAll('|', '\\|');
  return [
    `| ${headers.map(escapeCell).join(' | ')} |`,
    `|${headers.map((_, column) => (column === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((row) => `| ${row.map(escapeCell).join(' | ')} |`),
  ].join('\n');
}

/** Replaces (or appends) the section `name` of a Markdown file, keeping every other section. */
export function writeSection(file, name, title, body) {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${start}\n${body.trim()}\n${end}`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : `# ${title}\n\n`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from >= 0 && to > from) text = text.slice(0, from) + block + text.slice(to + end.length);
  else text = `${text.trimEnd()}\n\n${block}\n`;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
}

function escapeXml(text) {
  return String(text).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/**
 * A horizontal bar chart on a log scale: `groups` is `[{ title, bars: [{ label, value, text, kind }] }]`,
 * `kind` one of `ours`, `floor`, `peer`.
 * Plain SVG text, no chart library.
 */
export function barChartSvg({ title, subtitle, unit, groups }) {
  const width = 900;
  const labelWidth = 300;
  const valueWidth = 90;
  const plotWidth = width - labelWidth - valueWidth - 20;
  const barHeight = 18;
  const gap = 6;
  const values = groups.flatMap((group) => group.bars.map((bar) => bar.value)).filter((value) => value > 0);
  const minimum = 10 ** Math.floor(Math.log10(Math.min(...values)));
  const maximum = 10 ** Math.ceil(Math.log10(Math.max(...values)));
  const x = (value) =>
    labelWidth +
    (plotWidth * (Math.log10(value) - Math.log10(minimum))) / (Math.log10(maximum) - Math.log10(minimum));
  let y = 64;
  const parts = [];
  for (const group of groups) {
    parts.push(`<text x="10" y="${y + 12}" class="group">${escapeXml(group.title)}</text>`);
    y += 22;
    for (const bar of group.bars) {
      const end = bar.value > 0 ? x(bar.value) : labelWidth;
      parts.push(
        `<text x="${labelWidth - 8}" y="${y + 13}" class="label" text-anchor="end">${escapeXml(bar.label)}</text>`,
        `<rect x="${labelWidth}" y="${y}" width="${Math.max(1, end - labelWidth).toFixed(1)}" height="${barHeight}" class="${bar.kind ?? 'peer'}"/>`,
        `<text x="${(end + 6).toFixed(1)}" y="${y + 13}" class="value">${escapeXml(bar.text ?? formatNumber(bar.value))}</text>`,
      );
      y += barHeight + gap;
    }
    y += 10;
  }
  const height = y + 30;
  const grid = [];
  for (let power = Math.log10(minimum); power <= Math.log10(maximum); power++) {
    const position = x(10 ** power).toFixed(1);
    grid.push(
      `<line x1="${position}" y1="56" x2="${position}" y2="${height - 30}" class="grid"/>`,
      `<text x="${position}" y="${height - 14}" class="axis" text-anchor="middle">${formatNumber(10 ** power, power < 0 ? -power : 0)}</text>`,
    );
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">
<style>
  .title { font-size: 17px; font-weight: 600; fill: #111; }
  .subtitle { font-size: 12px; fill: #555; }
  .group { font-size: 13px; font-weight: 600; fill: #222; }
  .label { font-size: 12px; fill: #222; }
  .value { font-size: 12px; fill: #222; }
  .axis { font-size: 11px; fill: #666; }
  .grid { stroke: #ddd; stroke-width: 1; }
  .ours { fill: #2563eb; }
  .peer { fill: #9ca3af; }
  .floor { fill: #374151; }
</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="24" class="title">${escapeXml(title)}</text>
<text x="10" y="44" class="subtitle">${escapeXml(subtitle)}</text>
${grid.join('\n')}
${parts.join('\n')}
<text x="${labelWidth + plotWidth / 2}" y="${height - 2}" class="axis" text-anchor="middle">${escapeXml(unit)} (log scale)</text>
</svg>
`;
}
