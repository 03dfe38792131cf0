/**
 * Reads the JSON-message stream of POST /build (one object per line or
 * chunk): the text to show, the step counter for progress, the error that
 * ends a failed build, and the built image's ID.
 */
export interface BuildProgress {
  /** Text for the build log, as the docker CLI prints it. */
  text: string;
  /** From "Step 2/5 : RUN …" lines. */
  step?: { index: number; total: number; instruction: string };
  error?: string;
  imageId?: string;
}

const STEP = /^Step (\d+)\/(\d+) : (.*)$/m;

export function readBuildMessage(message: unknown): BuildProgress {
  const m = (message ?? {}) as { stream?: unknown; status?: unknown; progress?: unknown; error?: unknown; errorDetail?: { message?: unknown }; aux?: { ID?: unknown } };
  if (m.errorDetail || m.error) {
    const error = String(m.errorDetail?.message ?? m.error);
    return { text: `${error}\n`, error };
  }
  if (typeof m.aux?.ID === "string") return { text: "", imageId: m.aux.ID };
  const text = typeof m.stream === "string" ? m.stream : typeof m.status === "string" ? `${m.status}${typeof m.progress === "string" ? ` ${m.progress}` : ""}\n` : "";
  const s = STEP.exec(text);
  const built = /^Successfully built ([0-9a-f]{12,64})$/m.exec(text);
  return { text, ...(s ? { step: { index: Number(s[1]), total: Number(s[2]), instruction: s[3] } } : {}), ...(built ? { imageId: built[1] } : {}) };
}

/**
 * Splits a byte stream of concatenated JSON messages (newline separated,
 * though chunks may cut anywhere) into parsed objects.
 */
export class JsonMessageSplitter {
  private pending = "";

  push(chunk: string): unknown[] {
    this.pending += chunk;
    const out: unknown[] = [];
    let nl: number;
    while ((nl = this.pending.indexOf("\n")) >= 0) {
      const line = this.pending.slice(0, nl).trim();
      this.pending = this.pending.slice(nl + 1);
      if (line) out.push(parseOrText(line));
    }
    return out;
  }

  end(): unknown[] {
    const line = this.pending.trim();
    this.pending = "";
    return line ? [parseOrText(line)] : [];
  }
}

function parseOrText(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return { stream: `${line}\n` };
  }
}
