/**
 * A connection from the host into a guest TCP port through v86's user-mode
 * network stack (`network_adapter.connect(port)`), without any host socket.
 * Two quirks of that stack, found by running it, are handled here:
 *  - bytes written before the guest's SYN-ACK make the stack reset the
 *    connection, so writes wait for "connect";
 *  - a connection is a small event emitter with one handler per event;
 *  - after the host closes first, the guest's answering FIN only releases
 *    the connection (state "closed") and emits nothing, so the end is
 *    noticed by watching the state;
 *  - the payload of a segment that also carries FIN is dropped (the guest
 *    sends its last bytes with its FIN when they queued behind a slow
 *    acknowledgement: a download through a forwarded port lost its tail), so
 *    it is delivered here before v86 handles the FIN (as GuestNat does).
 */
export interface V86TcpConnection {
  state: string;
  /** The next sequence number expected from the guest. */
  ack: number;
  process(segment: { tcp: { seq: number; fin: boolean; syn: boolean; rst: boolean }; tcp_data: Uint8Array }): void;
  on(event: "connect" | "close" | "shutdown", handler: () => void): void;
  on(event: "data", handler: (data: Uint8Array) => void): void;
  write(data: Uint8Array): void;
  close(): void;
}

/**
 * v86 drops the payload of a guest segment that also carries FIN: hand it to
 * `onData` (a copy: the NIC's buffer is reused) before v86 handles the FIN.
 * For host-to-guest connections (GuestTcp) and guest-to-host ones (GuestNat).
 */
export function deliverFinPayload(conn: Pick<V86TcpConnection, "state" | "ack" | "process">, onData: (data: Uint8Array) => void): void {
  const process = conn.process.bind(conn);
  conn.process = (segment) => {
    const { tcp, tcp_data: data } = segment;
    const open = conn.state === "established" || conn.state === "fin-wait-1" || conn.state === "fin-wait-2";
    if (open && tcp.fin && !tcp.syn && !tcp.rst && data.length && tcp.seq === conn.ack) {
      conn.ack += data.length;
      onData(data.slice());
    }
    process(segment);
  };
}

export interface GuestTcpHandlers {
  onConnect(): void;
  onData(data: Uint8Array): void;
  onEnd(): void;
}

export class GuestTcp {
  private readonly queued: Uint8Array[] = [];
  private ended = false;
  private readonly end: () => void;

  constructor(
    private readonly conn: V86TcpConnection,
    handlers: GuestTcpHandlers,
  ) {
    conn.on("connect", () => {
      for (const chunk of this.queued.splice(0)) conn.write(chunk);
      handlers.onConnect();
    });
    conn.on("data", (data) => handlers.onData(data.slice()));
    deliverFinPayload(conn, (data) => handlers.onData(data));
    this.end = (): void => {
      if (this.ended) return;
      this.ended = true;
      handlers.onEnd();
    };
    conn.on("shutdown", this.end);
    conn.on("close", this.end);
  }

  write(data: Uint8Array): void {
    if (this.conn.state === "established" || this.conn.state === "close-wait") this.conn.write(data);
    else this.queued.push(data);
  }

  close(): void {
    this.conn.close();
    if (this.ended) return;
    // Until the guest answers our FIN; a guest that never does is given up on after a minute.
    const started = Date.now();
    // (ended meanwhile by the guest's own close: nothing is left to wait for)
    const watch = setInterval(() => {
      if (!this.ended && this.conn.state !== "closed" && Date.now() - started < 60_000) return;
      clearInterval(watch);
      this.end();
    }, 25);
  }
}
