import type { Command } from "commander";
import type { KeyObject } from "node:crypto";
import { SingleBar, Presets } from "cli-progress";
import { connectBroker, endAsync } from "../../host/agent/connection.js";
import { EdgerunError } from "../../host/format/errors.js";
import { openRelease } from "../lib/fleet/release.js";
import { readSigningKey } from "../lib/fleet/keys.js";
import { pushRelease, PushEvent, PushResult } from "../lib/fleet/push.js";
import { formatRows } from "../lib/fleet/status.js";
import type { DeviceRow } from "../lib/fleet/fleet-view.js";
import { readBin } from "./convert.js";
import { addBrokerOptions, BrokerFlags, brokerOptionsFrom, parseCanary, parseDurationMs, parseFraction } from "./fleet-options.js";

interface PushFlags extends BrokerFlags { group: string; canary?: { count?: number; percent?: number }; maxFailureRate: number; maxLatencyMs?: number; canaryTimeout: number; key?: string; rollback: boolean; wait?: boolean; timeout: number }

export function registerPush(program: Command): void {
  addBrokerOptions(
    program
      .command("push")
      .description("publish a release to a group: chunks, then canary devices, then the rest if the canary stays within thresholds (a halted canary stage is rolled back)")
      .argument("<release>", "release file (edgerun release)")
      .requiredOption("--group <name>", "device group")
      .option("--canary <n|percent>", "install on this many devices (3) or this share (10%) first", parseCanary)
      .option("--max-failure-rate <fraction>", "halt when more canaries fail than this (0.2 or 20%)", parseFraction, 0)
      .option("--max-latency-ms <ms>", "halt when a canary's self-test latency is above this", Number)
      .option("--canary-timeout <duration>", "time the canary gets", parseDurationMs, 120_000)
      .option("--key <file>", "Ed25519 private key: signs the canaries' rollback when the canary stage halts (needed with --canary)")
      .option("--no-rollback", "on a halt, leave the canaries on the new release (to inspect them)")
      .option("--wait", "wait until every online device of the group finished")
      .option("--timeout <duration>", "how long --wait, or the canaries' rollback after a halt, waits", parseDurationMs, 600_000),
  ).action(async function (this: Command, path: string, o: PushFlags) {
    // Checked before anything is published: a halt must be able to sign the rollback.
    if (o.canary && o.rollback && !o.key) this.error("--canary needs --key <file> to sign the canaries' rollback if the stage halts (or --no-rollback to leave them on the new release)");
    const rollbackKey: KeyObject | undefined = o.canary && o.rollback && o.key ? readSigningKey(o.key) : undefined;
    const rel = openRelease(readBin(path));
    const client = await connectBroker(brokerOptionsFrom(o), { clientId: `edgerun-push-${process.pid}` });
    const ui = new PushUi(process.stdout.isTTY === true);
    try {
      console.log(`pushing ${rel.manifest.modelId} ${rel.manifest.version} (${rel.manifest.chunks.length} chunks) to group ${o.group}`);
      const r = await pushRelease(client, rel, {
        group: o.group, wait: !!o.wait, waitTimeoutMs: o.timeout,
        canary: o.canary ? { ...o.canary, maxFailureRate: o.maxFailureRate, maxLatencyMs: o.maxLatencyMs, timeoutMs: o.canaryTimeout, rollbackKey } : undefined,
      }, (e) => ui.event(e));
      ui.done(r.rows);
      if (r.halted) throw haltError(r, rel.manifest.version);
      const failed = r.rows.filter((x) => x.progress === "failed" || x.progress === "refused");
      if (failed.length) throw new EdgerunError("PUSH_DEVICES_FAILED", `${failed.length} device(s) did not install: ${failed.map((f) => f.deviceId).join(", ")}`);
      if (r.timedOut) throw new EdgerunError("PUSH_TIMEOUT", "not every online device finished before --timeout");
      console.log(o.wait ? "all online devices installed the release" : "published; devices install it when they see it (use --wait to follow)");
    } finally {
      ui.stop();
      await endAsync(client);
    }
  });
}

/** Prints the canaries that could not be rolled back; the error (exit 1) sums up the halt. */
function haltError(r: PushResult, version: string): EdgerunError {
  const rb = r.rolledBack;
  for (const f of rb?.failed ?? []) console.log(`not rolled back: ${f.deviceId}: ${f.reason}`);
  const parts: string[] = [];
  if (!rb) parts.push(`canaries left as they are (--no-rollback)`);
  else if (rb.devices.length + rb.failed.length === 0) parts.push(`no canary had installed ${version}, none needed a rollback`);
  if (rb?.devices.length) parts.push(`rolled back ${rb.devices.map((d) => `${d.deviceId} to ${d.to}`).join(", ")}`);
  if (rb?.failed.length) parts.push(`not rolled back: ${rb.failed.map((f) => f.deviceId).join(", ")}`);
  return new EdgerunError("PUSH_CANARY_HALTED", `rollout halted after the canary: ${r.halted}; ${parts.join("; ")}; the group topic was not updated`, { canary: r.canary?.devices });
}

/** Progress bar for the chunks, then a device table: redrawn in place on a terminal, printed on change otherwise. */
class PushUi {
  private bar?: SingleBar;
  private lastTable = "";
  private drawnLines = 0;
  private lastDrawMs = 0;
  constructor(private readonly tty: boolean) {}

  event(e: PushEvent): void {
    if (e.type === "chunks") {
      if (!this.bar) {
        this.bar = new SingleBar({ format: "chunks [{bar}] {value}/{total} {bytes} bytes", noTTYOutput: false, stream: process.stdout }, Presets.shades_classic);
        if (this.tty) this.bar.start(e.total, 0, { bytes: 0 });
      }
      if (this.tty) this.bar.update(e.done, { bytes: e.bytes });
      if (e.done === e.total) {
        if (this.tty) this.bar.stop();
        else console.log(`chunks published: ${e.total} (${e.bytes} bytes)`);
      }
    } else if (e.type === "stage") console.log(`${e.stage} stage: ${e.devices.join(", ") || "(no device known yet)"}`);
    else if (e.type === "halted") console.log(`canary stage halted: ${e.reason}`);
    else if (e.type === "rolled-back") console.log(`rolled back ${e.deviceId} from ${e.from} to ${e.to}`);
    else if (e.type === "repair") console.log(`republished chunk ${e.sha256.slice(0, 12)} for ${e.deviceId}`);
    else this.table(e.rows);
  }

  private table(rows: DeviceRow[], force = false): void {
    const text = formatRows(rows).join("\n");
    if (text === this.lastTable || (!force && Date.now() - this.lastDrawMs < 250)) return;
    this.lastTable = text;
    this.lastDrawMs = Date.now();
    if (this.tty && this.drawnLines) process.stdout.write(`\x1b[${this.drawnLines}A\x1b[J`);
    if (this.tty) {
      process.stdout.write(text + "\n");
      this.drawnLines = text.split("\n").length;
    }
  }

  done(rows: DeviceRow[]): void {
    if (this.tty) this.table(rows, true);
    else console.log(formatRows(rows).join("\n"));
  }

  stop(): void {
    this.bar?.stop();
  }
}
