// The one error class of edgerun's TypeScript side: a code (AREA_REASON), a message, and where.

export interface ErrorContext {
  offset?: number;
  section?: string;
  tensor?: number;
  op?: number;
  opName?: string;
  expected?: unknown;
  actual?: unknown;
  path?: string;
  [key: string]: unknown;
}

export class EdgerunError extends Error {
  readonly code: string;
  readonly context: ErrorContext;
  constructor(code: string, message: string, context: ErrorContext = {}) {
    super(`${code}: ${message}${formatContext(context)}`);
    this.name = "EdgerunError";
    this.code = code;
    this.context = context;
  }
}

function formatContext(c: ErrorContext): string {
  const parts = Object.entries(c)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : String(v)}`);
  return parts.length ? ` (${parts.join(", ")})` : "";
}
