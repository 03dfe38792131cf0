/**
 * The engine's event log, as Docker's daemon keeps it: the last events in
 * memory (for `docker events --since`), and live subscribers (open
 * `/events` streams, and later the extension's views, which refresh on
 * events instead of polling). Events are not persisted: a restarted engine
 * starts with none, as dockerd does.
 */

export type EventType = "image" | "container" | "network" | "volume" | "daemon";

export interface EngineEvent {
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: "local";
  /** Nanoseconds since the epoch (beyond Number's exact range, hence bigint). */
  timeNano: bigint;
}

/** What `GET /events` filters on (Docker's events.Filter, the part that applies here). */
export interface EventFilter {
  since?: bigint;
  until?: bigint;
  /** Filter name → accepted values (type, event, image, container, label, scope). */
  filters?: Map<string, string[]>;
}

/** As many as Docker keeps (daemon/events: eventsLimit). */
const KEEP = 256;

// Wall-clock nanoseconds with sub-millisecond resolution, so events in one millisecond keep their order.
const clockOffset = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
export function nowNanos(): bigint {
  return clockOffset + process.hrtime.bigint();
}

export class EngineEvents {
  private readonly recent: EngineEvent[] = [];
  private readonly listeners = new Set<(event: EngineEvent) => void>();

  publish(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): EngineEvent {
    const event: EngineEvent = { Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, scope: "local", timeNano: nowNanos() };
    this.recent.push(event);
    if (this.recent.length > KEEP) this.recent.shift();
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /** Kept events in [since, until] that pass the filters (none when neither bound is given, as Docker). */
  past(filter: EventFilter): EngineEvent[] {
    if (filter.since === undefined && filter.until === undefined) return [];
    return this.recent.filter((e) => (filter.since === undefined || e.timeNano >= filter.since) && (filter.until === undefined || e.timeNano <= filter.until) && matchesEvent(e, filter.filters));
  }

  /** Calls `listener` for each new event until the returned function is called. */
  subscribe(listener: (event: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }
}

/** Docker's events.Filter.Include for the filters Hangar knows. */
export function matchesEvent(event: EngineEvent, filters: Map<string, string[]> | undefined): boolean {
  if (!filters) return true;
  const accepts = (name: string, ...candidates: Array<string | undefined>): boolean => {
    const values = filters.get(name);
    if (!values || values.length === 0) return true;
    return candidates.some((c) => c !== undefined && values.includes(c));
  };
  const name = event.Actor.Attributes.name;
  const shortName = name?.endsWith(":latest") ? name.slice(0, -":latest".length) : name;
  const idPrefixes = (values: string[] | undefined): boolean => !!values?.some((v) => v.length >= 1 && (event.Actor.ID.startsWith(v) || event.Actor.ID.startsWith(`sha256:${v}`)));
  if (!accepts("type", event.Type)) return false;
  // As dockerd (moby#25798): health_status, exec_create and exec_start match their actions' "…: detail" forms too.
  const action = /^(health_status|exec_create|exec_start):/.exec(event.Action)?.[1];
  if (!accepts("event", event.Action, action)) return false;
  if (!accepts("scope", event.scope)) return false;
  if (filters.get("image")?.length && !(event.Type === "image" && (accepts("image", name, shortName, event.Actor.ID) || idPrefixes(filters.get("image"))))) return false;
  if (filters.get("container")?.length && !(event.Type === "container" && (accepts("container", name, event.Actor.ID) || idPrefixes(filters.get("container"))))) return false;
  const labels = filters.get("label");
  if (labels?.length) {
    const ok = labels.every((l) => {
      const eq = l.indexOf("=");
      return eq < 0 ? l in event.Actor.Attributes : event.Actor.Attributes[l.slice(0, eq)] === l.slice(eq + 1);
    });
    if (!ok) return false;
  }
  return true;
}

/**
 * An event as Docker's JSON (with the pre-1.22 "status"/"id" fields Docker
 * still fills for images and containers). timeNano is written as an exact
 * integer, which JSON.stringify cannot do for a bigint.
 */
export function eventJson(event: EngineEvent): string {
  const legacy =
    event.Type === "image" || event.Type === "container"
      ? { status: event.Action, id: event.Actor.ID, ...(event.Type === "container" && event.Actor.Attributes.image ? { from: event.Actor.Attributes.image } : {}) }
      : {};
  const seconds = event.timeNano / 1_000_000_000n;
  const body = JSON.stringify({ ...legacy, Type: event.Type, Action: event.Action, Actor: event.Actor, scope: event.scope, time: Number(seconds) });
  return `${body.slice(0, -1)},"timeNano":${event.timeNano.toString()}}`;
}
