/**
 * Admission of new TCP connections, shared by the SV2 and SV1 listeners: a cap on the total and on
 * each source IP (a misconfigured proxy or a probing host cannot take every slot).
 */
export type AdmitResult = "ok" | "total" | "per-ip";

export class ConnectionLimiter {
  private readonly perIp = new Map<string, number>();
  private open = 0;

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerIp: number,
  ) {}

  get total(): number {
    return this.open;
  }

  /** Counts the connection in when it fits; otherwise says which limit refused it. */
  admit(ip: string): AdmitResult {
    if (this.open >= this.maxTotal) return "total";
    const fromIp = this.perIp.get(ip) ?? 0;
    if (fromIp >= this.maxPerIp) return "per-ip";
    this.perIp.set(ip, fromIp + 1);
    this.open++;
    return "ok";
  }

  /** A connection that `admit` let in has closed. */
  release(ip: string): void {
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
    this.open = Math.max(0, this.open - 1);
  }
}
