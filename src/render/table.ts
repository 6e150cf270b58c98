import type { Status, Table } from '../core/reply.ts';

/** Cells other than the last are cut to this width so the table stays readable in monospace. */
const CELL_WIDTH = 64;

export interface TableStyle {
  marker: (status: Status) => string;
}

/** Lay a table out as aligned monospace lines (header first). The last column is left free to wrap. */
export function tableLines(table: Table, style: TableStyle): string[] {
  const cut = (cell: string, i: number) =>
    i < table.columns.length - 1 && cell.length > CELL_WIDTH ? `${cell.slice(0, CELL_WIDTH - 1)}…` : cell;
  const rows = [table.columns, ...table.rows].map((row) => row.map((cell, i) => cut(cell.replace(/\s+/g, ' '), i)));
  const widths = table.columns.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const markerWidth = table.rowStatus ? style.marker('ok').length + 1 : 0;
  return rows.map((row, r) => {
    const status = r === 0 ? undefined : table.rowStatus?.[r - 1];
    const lead = markerWidth === 0 ? '' : status ? `${style.marker(status)} ` : ' '.repeat(markerWidth);
    const line = row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ');
    return `${lead}${line}`.trimEnd();
  });
}
